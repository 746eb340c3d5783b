#!/bin/sh
# cli_options.sh - every subcommand takes --help and --version, short options
# mean one thing everywhere (-c is --config), check-config and sink --check
# agree on sink configs, and `demo` runs when the default HTTP port is taken.
# Usage: cli_options.sh ALERTBRIDGE
set -u
ab=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"; [ -z "${holder:-}" ] || kill "$holder" 2>/dev/null' EXIT
fails=0

# expect NAME STATUS OUTTEXT ERRTEXT CMD...: CMD exits with STATUS within
# 60 s, its stdout contains OUTTEXT and its stderr ERRTEXT ("" = anything).
expect() {
        name=$1 want=$2 out=$3 errtext=$4
        shift 4
        timeout 60 "$@" >"$dir/out" 2>"$dir/err" </dev/null
        got=$?
        if [ "$got" != "$want" ] ||
                { [ -n "$out" ] && ! grep -qF -- "$out" "$dir/out"; } ||
                { [ -n "$errtext" ] && ! grep -qF -- "$errtext" "$dir/err"; }
        then
                echo "FAIL $name: exit $got (want $want), stdout:"
                head -c 2000 "$dir/out"
                echo "stderr:"
                head -c 2000 "$dir/err"
                fails=$((fails + 1))
        else
                echo "ok   $name"
        fi
}

version=$("$ab" --version)
for cmd in test check-config run config-reference demo sink replay ingest; do
        expect "$cmd --help" 0 "usage: alertbridge $cmd" "" "$ab" "$cmd" --help
        expect "$cmd -h" 0 "usage: alertbridge $cmd" "" "$ab" "$cmd" -h
        expect "$cmd --version" 0 "$version" "" "$ab" "$cmd" --version
done

# -c is --config in every subcommand that takes a config; replay's
# --compare is -C. A missing config file is reported by its name.
for cmd in run sink ingest; do
        expect "$cmd -c" 2 "" "$dir/none.yaml" "$ab" "$cmd" -c "$dir/none.yaml"
done
expect "replay -c is --config" 2 "" "$dir/none.yaml" \
        "$ab" replay -c "$dir/none.yaml" --topic t --integration generic
expect "replay --help names -C, --compare" 0 "-C, --compare" "" \
        "$ab" replay --help
expect "replay --help names -c, --config" 0 "-c, --config" "" \
        "$ab" replay --help

# check-config knows a sink config; sink --check validates one without
# credentials (a warning, exit 0). A broken sink config still fails both.
sink=$(dirname "$0")/../fixtures/sink
expect "check-config on a sink config" 0 "ok: sink config" "" \
        "$ab" check-config "$sink/sink.yaml"
expect "check-config on a bad sink config" 2 "" "eventbridge.bus" \
        "$ab" check-config "$sink/missing_bus.yaml"
expect "sink --check without credentials" 0 "" "without credentials" \
        env -u SINK_TEST_AK -u SINK_TEST_SECRET \
        "$ab" sink --check -c "$sink/sink.yaml"
expect "sink --check on a bad sink config" 2 "" "eventbridge.bus" \
        "$ab" sink --check -c "$sink/missing_bus.yaml"
sed 's/^http:.*/http: {listen: ""}/' "$sink/sink.yaml" >"$dir/nohttp.yaml"
expect "sink http.listen \"\"" 0 "ok: sink config" "" \
        "$ab" check-config "$dir/nohttp.yaml"

# check-config knows an ingest config; ingest --check reads its files too.
ingest=$(dirname "$0")/../../examples/ingest.yaml
expect "check-config on an ingest config" 0 "ok: ingest config" "" \
        env AM_WEBHOOK_TOKEN=a CMS_WEBHOOK_TOKEN=b \
        "$ab" check-config "$ingest"
expect "ingest --check" 0 "" "configuration ok" \
        env AM_WEBHOOK_TOKEN=a CMS_WEBHOOK_TOKEN=b \
        "$ab" ingest --check -c "$ingest"
expect "ingest --check without its token" 2 "" "AM_WEBHOOK_TOKEN" \
        env -u AM_WEBHOOK_TOKEN CMS_WEBHOOK_TOKEN=b \
        "$ab" ingest --check -c "$ingest"
sed 's/integration: cloudmonitor$/integration: nope/' "$ingest" >"$dir/badint.yaml"
expect "ingest --check with an unknown integration" 2 "" "nope" \
        env AM_WEBHOOK_TOKEN=a CMS_WEBHOOK_TOKEN=b \
        "$ab" ingest --check -c "$dir/badint.yaml"

# demo needs no fixed port: it runs while 127.0.0.1:9464 (the default HTTP
# listen address) is held by another process.
python3 -c '
import socket, sys, time
s = socket.socket()
try:
    s.bind(("127.0.0.1", 9464))
    s.listen()
except OSError:
    pass  # taken already: what the test needs
print("bound", flush=True)
time.sleep(90)
' >"$dir/holder" &
holder=$!
i=0
while [ ! -s "$dir/holder" ] && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
done
expect "demo with port 9464 taken" 0 "" "demo summary" "$ab" demo --quiet
kill "$holder" 2>/dev/null
holder=

[ "$fails" = 0 ] || {
        echo "$fails failed"
        exit 1
}
