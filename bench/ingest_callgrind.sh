#!/usr/bin/env bash
# ingest_callgrind.sh - user-space instructions per request of `alertbridge ingest` under callgrind: a repeatable CPU figure where wall-clock ones are not (a shared machine).
#
# Usage: bench/ingest_callgrind.sh ALERTBRIDGE [--seconds N] [--connections N]
#                                  [--work DIR]
# Starts ingest under valgrind's callgrind, warms it up with wrk (the
# posts of ingest_post.lua), zeroes the counters, runs wrk for a fixed
# time, dumps the counters and divides the instructions of every thread
# (libmicrohttpd, librdkafka, libc and alertbridge; not the kernel) by the
# 200s the server counted in between. Under valgrind the threads run one
# at a time, so batching differs from a real run: compare builds with it,
# do not read it as a rate. Needs AB_KAFKA_BROKERS, wrk, valgrind and
# python3-confluent-kafka.
set -euo pipefail

ab=${1:?usage: ingest_callgrind.sh ALERTBRIDGE [options]}
shift
seconds=10
connections=16
work=${TMPDIR:-/tmp}/alertbridge-bench-ingest-callgrind
while (($#)); do
        case $1 in
        --seconds) seconds=$2 ;;
        --connections) connections=$2 ;;
        --work) work=$2 ;;
        *)
                echo "ingest_callgrind.sh: unknown argument $1" >&2
                exit 2
                ;;
        esac
        shift 2
done
: "${AB_KAFKA_BROKERS:?set AB_KAFKA_BROKERS}"
for tool in wrk valgrind callgrind_control callgrind_annotate; do
        command -v $tool >/dev/null || {
                echo "ingest_callgrind.sh: $tool is not installed (scripts/install-deps.sh)" >&2
                exit 1
        }
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/ingest_common.sh
. "$here/ingest_common.sh"
mkdir -p "$work"
rm -f "$work"/callgrind.out.*
ingest_setup "$work" bench-ingest-cg
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
        "$ab" ingest --config "$work/ingest.yaml" 2>"$work/ingest.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
ingest_wait_ready 120 || true
wrk -t1 -c"$connections" -d3s -s "$here/ingest_post.lua" "$url" >/dev/null
n0=$(ingest_ok_count)
callgrind_control --zero $pid >/dev/null
wrk -t1 -c"$connections" -d"${seconds}s" -s "$here/ingest_post.lua" "$url" >/dev/null
callgrind_control --dump $pid >/dev/null
n1=$(ingest_ok_count)
kill -TERM $pid
wait $pid || true
trap - EXIT
# The dump of --dump is the file with a part number (.1); the one written
# at exit covers only the shutdown.
dump=$work/callgrind.out.$pid.1
ir=$(callgrind_annotate "$dump" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
n=$((n1 - n0))
echo "| requests (200s) | instructions (user space, all threads) | instructions per request |"
echo "|---|---|---|"
echo "| $n | $ir | $((ir / n)) |"
