#!/usr/bin/env bash
# test.sh - the whole test suite, as CI runs it on a fresh machine:
#   1. install what is missing (Debian packages, the EventBridge SDK venv);
#      check formatting and banned functions (scripts/lint.sh);
#   2. build with -Werror and run the unit tests (no Kafka needed), then
#      the deployment checks (Kubernetes manifests, container files,
#      systemd units, and the .deb built, installed, run and purged);
#   3. start a real Apache Kafka broker on loopback and run the
#      integration tests, then the benchmark smoke runs;
#   4. build again with AddressSanitizer + UndefinedBehaviorSanitizer and
#      run unit and integration tests once more;
#   5. build the threaded code with ThreadSanitizer and run its suite;
#   6. build the libFuzzer targets with clang and give each a short run.
#
# Usage: scripts/test.sh
# Environment: AB_TEST_BUILD (default build/test), AB_KAFKA_DIR, AB_JOBS
# (build and unit test jobs, default the cores), AB_IT_JOBS (integration
# tests side by side, default 3: they wait on the broker and on their own
# timeouts far more than they compute; tests/CMakeLists.txt).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${AB_TEST_BUILD:-$repo/build/test}
jobs=${AB_JOBS:-$(nproc)}
itjobs=${AB_IT_JOBS:-3}
broker=$repo/scripts/kafka-broker.sh
export AB_KAFKA_DIR=${AB_KAFKA_DIR:-$root/kafka-broker}
start=$SECONDS

step() { printf '\n==> %s (%ds)\n' "$*" $((SECONDS - start)) >&2; }

step "dependencies"
if ((EUID == 0)); then
        "$repo/scripts/install-deps.sh"
else
        sudo "$repo/scripts/install-deps.sh"
fi
"$repo/scripts/sdk-venv.sh"
"$repo/scripts/deploy-tools.sh" >/dev/null
"$broker" fetch

configure() { # dir, extra cmake args...
        local dir=$1
        shift
        cmake -S "$repo" -B "$dir" -DAB_WERROR=ON "$@" >/dev/null
        cmake --build "$dir" -j"$jobs"
}

step "formatting and banned functions"
"$repo/scripts/lint.sh"

step "build with -Werror"
configure "$root/gcc" -DCMAKE_BUILD_TYPE=RelWithDebInfo

step "unit tests"
ctest --test-dir "$root/gcc" -L unit --output-on-failure -j"$jobs"

step "deployment: Kubernetes manifests, container files, systemd units, .deb"
ctest --test-dir "$root/gcc" -L deploy --output-on-failure

step "real Kafka broker"
trap '"$broker" stop' EXIT
"$broker" start >/dev/null
eval "$("$broker" env)"
echo "broker: $AB_KAFKA_BROKERS" >&2

step "integration tests"
ctest --test-dir "$root/gcc" -L integration --output-on-failure -j"$itjobs"

step "benchmark smoke runs"
ctest --test-dir "$root/gcc" -L bench --output-on-failure

step "ASan + UBSan build"
configure "$root/asan" -DCMAKE_BUILD_TYPE=Debug -DAB_SANITIZE=ON
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

step "unit and integration tests under ASan + UBSan"
ctest --test-dir "$root/asan" -L 'unit|integration' --output-on-failure \
        -j"$itjobs"

step "ThreadSanitizer build of the transform pool"
cmake -S "$repo" -B "$root/tsan" -DAB_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
        -DAB_TSAN=ON >/dev/null
cmake --build "$root/tsan" -j"$jobs" --target check_transform_pool

step "transform pool under ThreadSanitizer"
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1} \
        ctest --test-dir "$root/tsan" -R '^check_transform_pool$' \
        --output-on-failure

step "fuzz smoke runs (clang, libFuzzer)"
CC=clang configure "$root/fuzz" -DCMAKE_BUILD_TYPE=Debug -DAB_FUZZ=ON
ctest --test-dir "$root/fuzz" -R '_smoke$' --output-on-failure -j"$jobs"

step "done"
