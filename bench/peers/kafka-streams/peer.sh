#!/usr/bin/env bash
# peer.sh - build and run the Kafka Streams peer of bench/run.sh's peer
# comparison (issue 16; bench/peers/README.md).
#
# Usage: bench/peers/kafka-streams/peer.sh build
#        bench/peers/kafka-streams/peer.sh run OPTION...   (--help lists them)
#
#   build  compile with Maven into bench/peers/kafka-streams/target (the jar
#          and its dependencies in target/lib). Dependencies and plugins come
#          from Maven Central into AB_PEERS_M2 (default <repo>/.cache/m2),
#          so a fresh machine needs only scripts/install-deps.sh (JDK 17,
#          Maven) and the network once; later builds are offline. Quick
#          when nothing changed.
#   run    exec the JVM on the built jar (the process bench_e2e measures is
#          the JVM itself); JVM options from AB_PEER_JAVA_OPTS (default
#          none: the JVM's own heap sizing).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
m2=${AB_PEERS_M2:-$repo/.cache/m2}
jar=$here/target/alertbridge-peer-kafka-streams.jar

case ${1:-} in
build)
        command -v mvn >/dev/null || {
                echo "peer.sh: mvn not found (scripts/install-deps.sh)" >&2
                exit 1
        }
        mkdir -p "$m2"
        log=$here/target/build.log
        mkdir -p "$here/target"
        if ! mvn -B -f "$here/pom.xml" "-Dmaven.repo.local=$m2" package \
                >"$log" 2>&1; then
                grep -E "ERROR|FAIL" "$log" | head -n 30 >&2
                echo "peer.sh: the build failed (see $log)" >&2
                exit 1
        fi
        ;;
run)
        shift
        [[ -f $jar ]] || {
                echo "peer.sh: $jar is missing: run $0 build" >&2
                exit 1
        }
        # shellcheck disable=SC2086 # AB_PEER_JAVA_OPTS is a list of options
        exec java ${AB_PEER_JAVA_OPTS:-} -jar "$jar" "$@"
        ;;
*)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        [[ ${1:-} == -h || ${1:-} == --help ]]
        ;;
esac
