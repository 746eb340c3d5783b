#!/usr/bin/env bash
# sdk-venv.sh - prepares the Python venv of the tests: the official EventBridge
# SDK for the signing cross-check (tests/support/sign_crosscheck.py), the
# CloudEvents SDK (tests/support/ce_sdk_check.py) and the validators of
# tests/deploy/.
# Usage: scripts/sdk-venv.sh [VENV_DIR]   (default: $AB_SDK_VENV or .cache/sdk-venv)
# Needs network access to PyPI only while installing; idempotent.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-${AB_SDK_VENV:-$root/.cache/sdk-venv}}"
req="$root/scripts/sdk-requirements.txt"
stamp="$venv/.requirements"

if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$req" "$stamp"; then
        echo "sdk-venv: $venv is up to date"
        exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --disable-pip-version-check -q -r "$req"
"$venv/bin/python" -c 'import alibabacloud_eventbridge.client, cloudevents.kafka, kubernetes_validate, yaml'
cp "$req" "$stamp"
echo "sdk-venv: installed $(grep -c '==' "$req") pinned packages into $venv"
