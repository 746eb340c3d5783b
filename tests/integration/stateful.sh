#!/usr/bin/env bash
# stateful.sh - run test_stateful.py by hand, bounded, and print each
# scenario's counts.
#
# Usage: tests/integration/stateful.sh [--legacy] [--alerts N] [TEST...]
#
# TEST is a unittest name (ThreeMembers, KillMember.test_exactly_once...;
# default: all). --legacy drops the stateful pipeline's config keys
# (AB_STATEFUL_LEGACY=1) for a binary that predates them. The binary is
# AB_ALERTBRIDGE or build/gcc/cli/alertbridge; the broker AB_KAFKA_BROKERS
# or the one scripts/kafka-broker.sh runs. The whole run is killed after
# AB_STATEFUL_BOUND seconds (default 900). Logs stay in the printed
# directory.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
while (($#)); do
        case $1 in
        --legacy) export AB_STATEFUL_LEGACY=1 ;;
        --alerts) export AB_STATEFUL_ALERTS=${2:?--alerts N}; shift ;;
        *) break ;;
        esac
        shift
done
if [[ -z ${AB_KAFKA_BROKERS:-} ]]; then
        eval "$("$repo/scripts/kafka-broker.sh" env)"
fi
bin=${AB_ALERTBRIDGE:-$repo/build/gcc/cli/alertbridge}
log=$(mktemp -d "${TMPDIR:-/tmp}/ab-stateful-XXXXXX")
echo "stateful: logs in $log" >&2
rc=0
timeout "${AB_STATEFUL_BOUND:-900}" /usr/bin/python3 \
        "$repo/tests/integration/test_stateful.py" --alertbridge "$bin" \
        --workdir "$log" "$@" 2>"$log/unittest.txt" || rc=$?
grep -E '^(stateful:|FAIL:|ERROR:|Ran |OK|FAILED)' "$log/unittest.txt" || true
exit "$rc"
