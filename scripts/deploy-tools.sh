#!/usr/bin/env bash
# deploy-tools.sh - fetches the validators tests/deploy/ runs into .cache/deploy-tools (kubeconform, Kubernetes and Compose schemas).
#
#   kubeconform      built with the Go toolchain from the Go module proxy
#                    (1 to 2 minutes, 40 s of CPU, from an empty Go cache);
#   Kubernetes JSON schemas
#                    from the kubernetes-validate package that
#                    scripts/sdk-venv.sh installs (PyPI), rewritten into the
#                    standalone layout kubeconform reads: the package's
#                    schemas point at https://kubernetes.io/api/_definitions.json,
#                    which kubeconform would try to download, so their
#                    references are made relative to the local copy;
#   the Compose specification's JSON schema
#                    from the compose-go module (Go module proxy), the
#                    schema `docker compose` itself validates with.
#
# Idempotent: a stamp records what was fetched; nothing is downloaded when
# it matches. Run scripts/sdk-venv.sh first.
# Usage: scripts/deploy-tools.sh   (prints the directory on stdout)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${AB_DEPLOY_TOOLS:-$repo/.cache/deploy-tools}
venv=${AB_SDK_VENV:-$repo/.cache/sdk-venv}
kubeconform=github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
compose_go=github.com/compose-spec/compose-go/v2@v2.16.2
# The oldest Kubernetes release the manifests support and the newest the
# schema package knows: tests/deploy/check_kubernetes.py validates both.
k8s_versions="1.29.0 1.37.0"
want="$kubeconform $compose_go $k8s_versions $(grep '^kubernetes-validate==' "$repo/scripts/sdk-requirements.txt")"

if [[ -f $out/.stamp && $(<"$out/.stamp") == "$want" ]]; then
        echo "$out"
        exit 0
fi
rm -rf "$out"
mkdir -p "$out/bin" "$out/schemas"

# The machine's Go (PATH, or where its image puts it).
go=$(command -v go || echo /usr/local/go/bin/go)
t0=$SECONDS
GOBIN=$out/bin "$go" install "$kubeconform"
echo "deploy-tools: kubeconform built in $((SECONDS - t0)) s" >&2

dir=$("$go" mod download -json "$compose_go" |
        "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
cp "$dir/schema/compose-spec.json" "$out/compose-spec.json"

"$venv/bin/python" - "$out/schemas" $k8s_versions <<'PY'
import json, os, sys

import kubernetes_validate

dest, versions = sys.argv[1], sys.argv[2:]
src_root = os.path.join(os.path.dirname(kubernetes_validate.__file__),
                        "kubernetes-json-schema")
for v in versions:
    src = os.path.join(src_root, f"v{v}-local-strict")
    dst = os.path.join(dest, f"v{v}-standalone-strict")
    os.makedirs(dst)
    for name in os.listdir(src):
        with open(os.path.join(src, name), encoding="utf-8") as f:
            schema = json.load(f)
        schema.pop("$id", None)  # resolve references against the file
        text = json.dumps(schema).replace(
            '"/api/_definitions.json#', '"_definitions.json#')
        with open(os.path.join(dst, name), "w", encoding="utf-8") as f:
            f.write(text)
PY
echo "$want" >"$out/.stamp"
echo "$out"
