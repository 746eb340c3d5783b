#!/usr/bin/env bash
# lint.sh - static checks on every tracked C file: clang-format style, the
# functions this project bans, includes that name their module, and the
# module layering.
#
# Usage: scripts/lint.sh            check, exit 1 on any finding
#        scripts/lint.sh --fix      reformat in place (bans still reported)
#
# Banned, as git's banned.h and curl's checksrc do, because each has a safer
# form the code base already uses:
#   strcpy strcat strncpy strncat  no bound, or a bound that drops the NUL:
#                                  use snprintf, memcpy with a known length,
#                                  or struct ab_buf
#   sprintf vsprintf               no bound: snprintf, vsnprintf
#   strtok strtok_r                modifies its input and keeps hidden state
#   gets                           no bound at all
#   atoi atol atoll atof           no error report: strtol and friends
#   tmpnam tempnam mktemp          racy temporary names: mkstemp
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
fix=0
[[ ${1:-} == --fix ]] && fix=1

mapfile -t files < <(git ls-files '*.c' '*.h')
status=0

if ((fix)); then
        clang-format -i "${files[@]}"
elif ! report=$(clang-format --dry-run -Werror "${files[@]}" 2>&1); then
        grep -E '^[^ ].*error:' <<<"$report" | cut -d: -f1 | sort -u |
                sed 's/^/lint: not clang-formatted: /' >&2
        echo "lint: run scripts/lint.sh --fix" >&2
        status=1
fi

banned='strcpy|strcat|strncpy|strncat|sprintf|vsprintf|strtok|strtok_r|gets'
banned+='|atoi|atol|atoll|atof|tmpnam|tempnam|mktemp'
# A call is the name as a whole word followed by '('; comments that
# mention a name in prose ("like strcpy") have no parenthesis after it.
if hits=$(grep -nE "\\b($banned)[[:space:]]*\\(" "${files[@]}"); then
        sed 's/^/lint: banned function: /' <<<"$hits" >&2
        status=1
fi

# Every project include names its module: "core/buf.h", never "buf.h".
if hits=$(grep -nE '^#[[:space:]]*include[[:space:]]+"[^/"]+"' "${files[@]}"); then
        sed 's/^/lint: include without its module: /' <<<"$hits" >&2
        status=1
fi

# The module graph of docs/architecture.md: a module includes headers of
# the modules listed for it and of no other (nothing runs back up).
declare -A below=(
        [core]=""
        [transform]="core"
        [service]="core"
        [lifecycle]="core transform"
        [kafka]="core service"
        [consumer]="core kafka"
        [producer]="core kafka"
        [ingest]="core transform service kafka"
        [pipeline]="core transform service lifecycle kafka consumer producer ingest"
        [sink]="core service kafka consumer producer"
        [replay]="core transform service lifecycle kafka consumer producer ingest pipeline"
        [cli]="core transform service lifecycle kafka consumer producer ingest pipeline sink replay"
)
for mod in "${!below[@]}"; do
        while IFS= read -r hit; do
                dep=${hit#*#include \"}
                dep=${dep%%/*}
                [[ $dep == "$mod" || " ${below[$mod]} " == *" $dep "* ]] && continue
                echo "lint: $mod may not include $dep: $hit" >&2
                status=1
        done < <(git ls-files "$mod/*.c" "$mod/*.h" |
                xargs grep -H '^#include "[a-z_]*/' || true)
done

((status == 0)) && echo "lint: ${#files[@]} C files formatted, no banned function, layers kept"
exit $status
