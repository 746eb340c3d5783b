#!/usr/bin/env bash
# ingest.sh - load test of `alertbridge ingest` (issue 14): wrk posts 1 KB
# Alertmanager webhooks over keep-alive connections for a fixed time;
# prints requests/s, p50/p99 latency, ingest's CPU and context switches
# per request (from /proc, so comparable between runs on a loaded machine
# where requests/s are not), and the loss check: every 200 the server gave
# must have its record in the topic (records counted from the partitions'
# watermarks against the server's 200 counter).
#
# Usage: bench/ingest.sh ALERTBRIDGE [--seconds N] [--connections N]
#                        [--threads N] [--work DIR]
# Needs AB_KAFKA_BROKERS, wrk (Debian) and python3-confluent-kafka.
set -euo pipefail

ab=${1:?usage: ingest.sh ALERTBRIDGE [options]}
shift
seconds=10
connections=64
wrk_threads=2
work=${TMPDIR:-/tmp}/alertbridge-bench-ingest
while (($#)); do
        case $1 in
        --seconds) seconds=$2 ;;
        --connections) connections=$2 ;;
        --threads) wrk_threads=$2 ;;
        --work) work=$2 ;;
        *)
                echo "ingest.sh: unknown argument $1" >&2
                exit 2
                ;;
        esac
        shift 2
done
: "${AB_KAFKA_BROKERS:?set AB_KAFKA_BROKERS}"
command -v wrk >/dev/null || {
        echo "ingest.sh: wrk is not installed (scripts/install-deps.sh)" >&2
        exit 1
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py=/usr/bin/python3
# shellcheck source=bench/ingest_common.sh
. "$here/ingest_common.sh"
mkdir -p "$work"
ingest_setup "$work" bench-ingest
"$ab" ingest --config "$work/ingest.yaml" 2>"$work/ingest.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
ingest_wait_ready 20 || true

cpu_ticks() { awk '{print $14, $15}' "/proc/$pid/stat"; }
# Voluntary and involuntary, summed over the process's threads.
ctx_switches() {
        cat /proc/$pid/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'
}
# Warm-up (connections, producer batches), then the measured run.
wrk -t"$wrk_threads" -c"$connections" -d2s -s "$here/ingest_post.lua" \
        "$url" >/dev/null
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
read -r u0 s0 < <(cpu_ticks)
c0=$(ctx_switches)
line=$(wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" --latency \
        -s "$here/ingest_post.lua" "$url" | grep '^BENCH')
read -r u1 s1 < <(cpu_ticks)
c1=$(ctx_switches)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
ok_server=$(ingest_ok_count)
kill -TERM $pid
status=0
wait $pid || status=$?
trap - EXIT
records=$($py - "$AB_KAFKA_BROKERS" "$topic" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "bench-ingest"})
n = 0
for p in range(2):
    lo, hi = c.get_watermark_offsets(TopicPartition(sys.argv[2], p), 30)
    n += hi - lo
c.close()
print(n)
PY
)
eval "${line#BENCH }"
hz=$(getconf CLK_TCK)
cpu_s=$(awk -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v hz="$hz" \
        'BEGIN {printf "%.2f", (u + s) / hz}')
# Per request answered in the measured run (wrk's count of all answers).
per_req=$(awk -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v hz="$hz" \
        -v c="$((c1 - c0))" -v n="$((ok + other))" \
        'BEGIN {printf "%.1f (%.1f user, %.1f sys) | %.2f", (u + s) / hz / n * 1e6,
                u / hz / n * 1e6, s / hz / n * 1e6, c / n}')
lost=$((ok_server > records ? ok_server - records : 0))
echo "| requests/s | p50 ms | p99 ms | max ms | 200s (wrk) | other answers | socket errors | 200s (server, with warm-up) | records | lost | ingest CPU s in ${duration_s} s | ingest CPU us/request | context switches/request | load avg before / after |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
echo "| $rps | $p50_ms | $p99_ms | $max_ms | $ok | $other | $errors | $ok_server | $records | $lost | $cpu_s | $per_req | $load_before / $load_after |"
echo
echo "wrk -t$wrk_threads -c$connections -d${seconds}s after a 2 s warm-up;" \
        "ingest exit status after SIGTERM: $status; topic $topic."
[[ $status == 0 && $lost == 0 ]]
