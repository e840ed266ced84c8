#!/usr/bin/env bash
# One command from a fresh Debian machine to a sandboxed run:
#   - installs the build dependencies and builds the plugin;
#   - with a kubectl context already set up (KUBECONFIG or ~/.kube/config),
#     runs the example in it;
#   - otherwise (as root) builds and starts the local one-node cluster and
#     runs the example there, leaving the cluster up for you to use.
# Usage: plugin/quickstart.sh [SCRIPT]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
script=${1:-plugin/examples/hello.py}

if [ "$(id -u)" = 0 ]; then
    tests/cluster/deps.sh --build-only
fi
cmake -S . -B build -DBUILD_TESTING=OFF >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
cmake --install build --prefix "$root/build/stage" >/dev/null
export PATH="$root/build/stage/bin:$PATH"
echo "plugin installed at $root/build/stage/bin/kubectl-sandbox_run"

has_context() {
    local f
    IFS=: read -r -a files <<<"${KUBECONFIG:-$HOME/.kube/config}"
    for f in "${files[@]}"; do [ -n "$f" ] && [ -s "$f" ] && return 0; done
    return 1
}

if has_context; then
    echo "using your kubectl context"
    exec kubectl-sandbox_run "$script"
fi

[ "$(id -u)" = 0 ] || { echo "no kubeconfig found, and the local cluster needs root: run as root" >&2; exit 1; }
echo "no kubeconfig found: starting the local one-node cluster (the first time builds Kubernetes: 7 to 20 minutes)"
tests/cluster/deps.sh
tests/cluster/build-k8s.sh
tests/cluster/images.sh
kubeconfig=$(tests/cluster/up.sh)
set +e
KUBECONFIG=$kubeconfig kubectl-sandbox_run "$script"
rc=$?
set -e
cat <<MSG

The local cluster is still running. To use it:
  export KUBECONFIG=$kubeconfig PATH=$root/build/stage/bin:\$PATH
  kubectl-sandbox_run your_script.py
Stop it with: $root/tests/cluster/down.sh
MSG
exit $rc
