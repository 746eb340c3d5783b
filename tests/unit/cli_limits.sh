#!/bin/sh
# cli_limits.sh - the command line refuses unsafe config inputs promptly and
# with a message naming the file or key: devices, FIFOs, regex bombs.
# Usage: cli_limits.sh ALERTBRIDGE
set -u
ab=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0

# expect NAME STATUS TEXT CMD...: CMD exits with STATUS within 20 s and its
# stderr contains TEXT.
expect() {
        name=$1 want=$2 text=$3
        shift 3
        timeout 20 "$@" >"$dir/out" 2>"$dir/err" </dev/null
        got=$?
        if [ "$got" != "$want" ] || ! grep -qF -- "$text" "$dir/err"; then
                echo "FAIL $name: exit $got (want $want), stderr:"
                cat "$dir/err"
                fails=$((fails + 1))
        else
                echo "ok   $name"
        fi
}

mkfifo "$dir/fifo"
expect "check-config /dev/zero" 2 "/dev/zero: it is a character device" \
        "$ab" check-config /dev/zero
expect "check-config FIFO" 2 "it is a FIFO" "$ab" check-config "$dir/fifo"
expect "test --integration /dev/zero" 2 "it is a character device" \
        "$ab" test --integration /dev/zero --input /dev/null
expect "test --input FIFO" 2 "it is a FIFO" \
        "$ab" test --integration generic --input "$dir/fifo"

cat >"$dir/bomb.yaml" <<'YAML'
name: bomb
fields:
  alertname: {value: x}
  severity:
    condition:
      - when: {field: $.x, regex: '((a{1,100}){1,100}){1,100}'}
        value: P1
      - value: P4
YAML
expect "check-config regex compile bomb" 2 \
        "config: fields.severity.condition[0].when.regex: invalid regular expression: regular expression is too large" \
        "$ab" check-config "$dir/bomb.yaml"

if [ "$fails" -ne 0 ]; then
        echo "$fails failed"
        exit 1
fi
echo "all passed"
