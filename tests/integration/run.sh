#!/usr/bin/env bash
# run.sh - run the integration tests of a build against a real Kafka broker.
#
# Usage: tests/integration/run.sh BUILD_DIR [CTEST_ARGS...]
#
# Starts the broker of scripts/kafka-broker.sh in BUILD_DIR/kafka-broker
# (unless one already serves there), runs ctest in BUILD_DIR with
# CTEST_ARGS (default: -L integration --output-on-failure -jAB_IT_JOBS,
# 3 unless set, as in scripts/test.sh: the tests run side by side, those
# that restart the broker alone) and AB_KAFKA_BROKERS / AB_KAFKA_DIR set,
# and stops the broker again if it started it, whatever the outcome. Exits
# with ctest's status.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:?usage: tests/integration/run.sh BUILD_DIR [CTEST_ARGS...]}
shift
build=$(cd "$build" && pwd)
args=("$@")
((${#args[@]})) || args=(-L integration --output-on-failure -j"${AB_IT_JOBS:-3}")

export AB_KAFKA_DIR=${AB_KAFKA_DIR:-$build/kafka-broker}
broker=$repo/scripts/kafka-broker.sh
started=0
if ! "$broker" status >/dev/null 2>&1; then
        started=1
        trap '"$broker" stop' EXIT
        "$broker" start >/dev/null
fi
eval "$("$broker" env)"
echo "integration: broker $AB_KAFKA_BROKERS ($AB_KAFKA_DIR)" >&2

rc=0
(cd "$build" && ctest "${args[@]}") || rc=$?
if ((rc)) && ((started)); then
        echo "integration: last broker log lines:" >&2
        tail -n 20 "$AB_KAFKA_DIR/broker.log" >&2 || true
fi
exit "$rc"
