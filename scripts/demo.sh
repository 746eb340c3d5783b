#!/usr/bin/env bash
# demo.sh - install what is missing, build, and run `alertbridge demo` on the
# embedded default: librdkafka's in-process mock Kafka cluster.
#
# Usage: scripts/demo.sh [demo options, e.g. --quiet]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${AB_BUILD_DIR:-$repo/build/release}

if ((EUID == 0)); then
        "$repo/scripts/install-deps.sh"
else
        sudo "$repo/scripts/install-deps.sh"
fi
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DAB_BUILD_TESTS=OFF \
        >/dev/null
cmake --build "$build" --target alertbridge -j"$(nproc)" >/dev/null
echo "demo.sh: built $build/cli/alertbridge" >&2
exec "$build/cli/alertbridge" demo "$@"
