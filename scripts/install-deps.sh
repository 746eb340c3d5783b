#!/usr/bin/env bash
# install-deps.sh - install everything alertbridge needs on Debian 12 (as root).
#
# Idempotent and fast when nothing is missing: it asks dpkg which packages
# are already installed and runs `apt-get update` and `apt-get install`
# only for the rest. The one list of the project's system packages is
# below: add a line (with what needs it) when the project needs more.
set -euo pipefail

packages=(
        # build
        build-essential
        cmake
        pkg-config
        clang              # AB_FUZZ and a second compiler
        libclang-rt-14-dev # libFuzzer and sanitizer runtimes for clang
        clang-format       # the .clang-format style
        # libraries
        librdkafka-dev # Kafka client (2.0.2), includes rdkafka_mock.h
        libjansson-dev
        libcurl4-openssl-dev
        libssl-dev
        libyaml-dev
        libmicrohttpd-dev
        libpcre2-dev # regex conditions: PCRE2 with JIT and match limits
        libxxhash-dev # xxhash.h: XXH3 for the stateless event ids (compiled in)
        # tests
        check                   # unit test framework
        kcat                    # independent Kafka client in integration tests
        python3                 # scripts/kafka-broker.sh picks free ports
        python3-confluent-kafka # Kafka client for python test drivers
        python3-jsonschema      # event schema checks
        python3-xxhash          # stateless_id_vectors.py, test_stateful.py
        python3-venv            # scripts/sdk-venv.sh (EventBridge SDK cross-check)
        prometheus-alertmanager # a real webhook sender for the ingest test
        openssl                 # the ingest TLS test's self-signed certificate
        wrk                     # bench/run.sh --only ingest (HTTP load generator)
        prometheus              # promtool: checks the /metrics exposition of run and sink
        # the real Kafka broker for integration tests (scripts/kafka-broker.sh)
        openjdk-17-jre-headless
        maven
        # deployment checks (tests/deploy/)
        debootstrap # scripts/image-size.sh: the container image's size
        systemd     # systemd-analyze verify of deploy/systemd/*.service
        # javac for the Kafka Streams peer of bench/peers/ (bench/run.sh)
        openjdk-17-jdk-headless
)

missing=()
for p in "${packages[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
        [[ $status == ii* ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
        echo "install-deps: all ${#packages[@]} packages present"
        exit 0
fi

echo "install-deps: installing ${missing[*]}"
if ((EUID != 0)); then
        echo "install-deps: run as root (or install the packages above)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
