#!/usr/bin/env bash
# run.sh - build the benchmarks with optimization and run them (issue 6).
#
# Usage: bench/run.sh [--quick | --smoke] [--only NAME]... [--build-dir DIR]
#                     [--no-build] [--out FILE]
#
#   (default)  the full run behind docs/performance.md: transform (every
#              workload and mode, 5 x 1 s each), lifecycle (1M open alerts,
#              3 rounds), callgrind instruction counts, end to end (1M
#              records, a warm-up round and 3 measured rounds of
#              pass-through and alertbridge with state.store memory,
#              changelog + at_least_once and changelog + exactly_once;
#              then the same on an Alertmanager-only corpus, --kind
#              alertmanager), restore (100k open alerts in one changelog partition,
#              3 restarts), webhook ingest (bench/ingest.sh: wrk
#              posting 1 KB Alertmanager bodies for 10 s, 64 connections,
#              records counted against the 200s), and peers (500k
#              Alertmanager payloads with 30k fingerprints (--keys 15000,
#              two alerts each), a warm-up round and 3 measured rounds of
#              alertbridge and the Kafka Streams peer of bench/peers/, each
#              in exactly_once and at_least_once), and latency (bench_e2e
#              --latency: per guarantee, at_least_once and exactly_once,
#              the maximum rate of the two-stage pipeline over 500k
#              Alertmanager payloads with 30k fingerprints, then 60 s of
#              input paced at half that rate, and the pass-through at
#              at_least_once's rate as a floor; p50, p99, p99.9 and max of
#              raw record to event, from broker append times); about
#              20-25 minutes on 2 cores (2026-12-05: 17.5 on an AMD EPYC
#              at commit 644d4eb, 25.5 on a 2.1 GHz Xeon at 741e5b7)
#   --quick    the same programs with shorter runs (about 3 minutes)
#   --smoke    `ctest -L bench`: seconds-long runs that check the harness
#              still works; no timing is asserted
#   --only     transform, lifecycle, e2e, restore, callgrind, ingest,
#              peers or latency
#              (repeatable)
#
# The build is Release (-O3, plus -g for profiles) in its own tree,
# default <repo>/build-bench-release (AB_BENCH_BUILD). The end-to-end
# part needs Kafka: with AB_KAFKA_BROKERS set it uses that broker, else it
# starts scripts/kafka-broker.sh in <build>/kafka-broker and stops it at
# the end. The peer comparison builds bench/peers/kafka-streams with Maven
# (bench/peers/README.md: JDK 17, dependencies from Maven Central into
# <repo>/.cache/m2) and fails if the two programs' creates and closes
# differ. Results are printed and written to <build>/bench-results.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${AB_BENCH_BUILD:-$repo/build-bench-release}
mode=full
only=()
do_build=1
out=
peer=$repo/bench/peers/kafka-streams/peer.sh

while (($#)); do
        case $1 in
        --quick) mode=quick ;;
        --smoke) mode=smoke ;;
        --only)
                only+=("${2:?--only needs a name}")
                shift
                ;;
        --build-dir)
                build=${2:?--build-dir needs a directory}
                shift
                ;;
        --no-build) do_build=0 ;;
        --out)
                out=${2:?--out needs a file}
                shift
                ;;
        -h | --help)
                sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
                exit 0
                ;;
        *)
                echo "run.sh: unknown argument $1 (see --help)" >&2
                exit 2
                ;;
        esac
        shift
done
out=${out:-$build/bench-results.md}

wanted() {
        local o
        ((${#only[@]})) || return 0
        for o in "${only[@]}"; do [[ $o == "$1" ]] && return 0; done
        return 1
}

if ((do_build)); then
        cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release \
                "-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -g" -DAB_BUILD_TESTS=ON \
                >"$build.configure.log" 2>&1 ||
                {
                        cat "$build.configure.log" >&2
                        exit 1
                }
        cmake --build "$build" -j2 --target bench_corpus bench_transform \
                bench_lifecycle bench_passthrough bench_e2e alertbridge \
                >/dev/null
        if wanted peers && [[ $mode != smoke ]]; then
                "$peer" build
        fi
fi
bin=$build/bench

# Kafka for the end-to-end part: the caller's broker, or our own.
broker=$repo/scripts/kafka-broker.sh
need_kafka() {
        [[ -n ${AB_KAFKA_BROKERS:-} ]] && return 0
        export AB_KAFKA_DIR=$build/kafka-broker
        if ! "$broker" status >/dev/null 2>&1; then
                "$broker" start >/dev/null
                trap '"$broker" stop' EXIT
        fi
        eval "$("$broker" env)"
}

if [[ $mode == smoke ]]; then
        need_kafka
        (cd "$build" && ctest -L bench --output-on-failure)
        exit
fi

if [[ $mode == quick ]]; then
        t_args=(--seconds 0.3 --repeat 3)
        l_args=(--repeat 1)
        e_args=(--records 200000 --repeat 1)
        r_args=(--records 100000 --repeat 1)
        i_args=(--seconds 3)
        p_args=(--records 50000 --keys 15000 --repeat 1 --warmup-rounds 0)
        y_args=(--records 100000 --keys 15000 --seconds 10)
else
        t_args=(--seconds 1 --repeat 5)
        l_args=(--repeat 3)
        e_args=(--records 1000000 --repeat 3)
        r_args=(--records 100000 --repeat 3)
        i_args=(--seconds 10)
        p_args=(--records 500000 --keys 15000 --repeat 3)
        y_args=(--records 500000 --keys 15000 --seconds 60)
fi

# Instructions per payload of one workload and mode: the difference of
# two callgrind runs (2000 and 12000 payloads) cancels start-up, corpus
# generation and warm-up. valgrind hides the CPU's SHA extensions, so
# OpenSSL's SHA-256 runs its portable code here and counts more
# instructions than it executes natively.
callgrind_per_payload() {
        local workload=$1 mode=$2 n1=2000 n2=12000 i1 i2
        collected() {
                valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                        "$bin/bench_transform" --only "$workload" \
                        --mode "$mode" --repeat 1 --iterations "$1" \
                        2>&1 >/dev/null |
                        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
        }
        i1=$(collected $n1)
        i2=$(collected $n2)
        echo "| $workload | $mode | $(((i2 - i1) / (n2 - n1))) |"
}

{
        echo "# alertbridge benchmark results ($mode)"
        echo
        echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "- commit: $(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)" \
                "($(git -C "$repo" status --porcelain 2>/dev/null | wc -l) paths with uncommitted changes)"
        echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
                "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr)," \
                "load average $(cut -d' ' -f1-3 /proc/loadavg)"
        echo "- compiler: $(${CC:-cc} --version | head -n1); build: Release (-O3 -g) in $build"
        echo
        if wanted transform; then
                echo "## Transform (bench_transform ${t_args[*]})"
                echo
                "$bin/bench_transform" "${t_args[@]}"
                echo
        fi
        if wanted lifecycle; then
                echo "## Lifecycle (bench_lifecycle ${l_args[*]})"
                echo
                "$bin/bench_lifecycle" "${l_args[@]}"
                echo
        fi
        if wanted callgrind && [[ $mode == full ]]; then
                echo "## Instructions per payload (callgrind)"
                echo
                if command -v valgrind >/dev/null; then
                        echo "| workload | mode | instructions/payload |"
                        echo "|---|---|---|"
                        callgrind_per_payload reference transform
                        callgrind_per_payload reference stateless
                        callgrind_per_payload "reference open/close" processor
                        callgrind_per_payload reference processor
                        callgrind_per_payload mixed transform
                        callgrind_per_payload mixed processor
                else
                        echo "valgrind is not installed: skipped."
                fi
                echo
        fi
        if wanted e2e; then
                need_kafka
                echo "## End to end (bench_e2e ${e_args[*]})"
                echo
                "$bin/bench_e2e" "${e_args[@]}" \
                        --alertbridge "$build/cli/alertbridge" \
                        --passthrough "$bin/bench_passthrough" \
                        --work "$build/bench-e2e"
                echo
                echo "## End to end, Alertmanager only (bench_e2e ${e_args[*]} --kind alertmanager)"
                echo
                "$bin/bench_e2e" "${e_args[@]}" --kind alertmanager \
                        --alertbridge "$build/cli/alertbridge" \
                        --passthrough "$bin/bench_passthrough" \
                        --work "$build/bench-e2e-am"
                echo
        fi
        if wanted restore; then
                need_kafka
                echo "## Restore (bench_e2e --restore ${r_args[*]})"
                echo
                "$bin/bench_e2e" --restore "${r_args[@]}" \
                        --alertbridge "$build/cli/alertbridge" \
                        --passthrough "$bin/bench_passthrough" \
                        --work "$build/bench-restore"
                echo
        fi
        if wanted ingest; then
                need_kafka
                echo "## Webhook ingest (bench/ingest.sh ${i_args[*]})"
                echo
                "$repo/bench/ingest.sh" "$build/cli/alertbridge" \
                        "${i_args[@]}" --work "$build/bench-ingest"
                echo
        fi
        if wanted peers; then
                need_kafka
                echo "## Peer comparison (bench_e2e --peer ${peer#"$repo"/} ${p_args[*]})"
                echo
                "$bin/bench_e2e" --peer "$peer" "${p_args[@]}" \
                        --alertbridge "$build/cli/alertbridge" \
                        --work "$build/bench-peers"
                echo
        fi
        if wanted latency; then
                need_kafka
                echo "## Latency (bench_e2e --latency ${y_args[*]})"
                echo
                "$bin/bench_e2e" --latency "${y_args[@]}" \
                        --alertbridge "$build/cli/alertbridge" \
                        --passthrough "$bin/bench_passthrough" \
                        --work "$build/bench-latency"
                echo
        fi
} | tee "$out"
echo "results: $out" >&2
