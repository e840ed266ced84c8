#!/usr/bin/env bash
# One command for the whole benchmark: installs what it needs, builds
# (Release), brings the local cluster up (as the tests do) unless
# GKX_E2E_KUBECONFIG names another, runs bench.py, writes bench/results/
# (results.csv, results.md, chart.png), and stops the cluster it started.
# BENCH_RUNS (default 20) interleaved rounds after a warm-up: the kubelet
# reports a container's end on a one-second cycle, so fewer runs give noisy
# percentiles. Every pod runs under RuntimeClass gvisor, checked first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. tests/cluster/lib.sh
out=${1:-$root/bench/results}

if [ "$(id -u)" = 0 ]; then
    tests/cluster/deps.sh
    missing=()
    for p in python3-kubernetes python3-matplotlib; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] || apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    [ -n "${GKX_E2E_KUBECONFIG:-}" ] || { tests/cluster/build-k8s.sh; tests/cluster/images.sh; }
fi
kubectl135=$(bench/fetch-kubectl-1.35.sh)

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-bench -j "$(nproc)" >/dev/null
cmake --install build-bench --prefix build-bench/stage >/dev/null
export GKEXEC_LIBRARY=$root/build-bench/stage/lib/libgkexec.so.0
export PYTHONPATH=$root/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}

started_cluster=""
if [ -z "${GKX_E2E_KUBECONFIG:-}" ]; then
    tests/cluster/up.sh >/dev/null
    started_cluster=1
    set -a; . "$CLUSTER_DIR/env"; set +a
fi
work=$(mktemp -d)
cleanup() {
    [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null
    [ -n "$started_cluster" ] && tests/cluster/down.sh
    rm -rf "$work"
}
trap cleanup EXIT
export KUBECONFIG=$GKX_E2E_KUBECONFIG
NS=${GKX_E2E_NAMESPACE:-default}
IMAGE=${GKX_E2E_IMAGE:-python:3.11-slim}
K=${GKX_E2E_KUBECTL:-kubectl}

# Request counts go through the fault proxy (no faults), as a runner
# ServiceAccount, exactly as the fault tests do.
E2E_DIR=$root/tests/e2e WORK=$work K=$K NS=$NS
# shellcheck disable=SC1091
source <(sed -n '/^RUNNER_SA=/,/^stop_proxy()/p' tests/e2e/lib.sh)
runner_token
start_proxy

mkdir -p "$out"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
    echo "cluster: $("$K" version --short 2>/dev/null | grep Server || "$K" version 2>/dev/null | grep Server)"
    echo "kubectl: $("$K" version --client --short 2>/dev/null | head -1) and $("$kubectl135" version --client 2>/dev/null | head -1)"
    echo "runtime: RuntimeClass gvisor, handler $("$K" get runtimeclass gvisor -o jsonpath='{.handler}' 2>/dev/null); $(runsc --version 2>/dev/null | sed -n 1p || echo 'runsc not on this machine')"
} >"$out/environment.txt"
/usr/bin/python3 bench/bench.py --plugin build-bench/stage/bin/kubectl-sandbox_run \
    --kubectl120 "$K" --kubectl135 "$kubectl135" --image "$IMAGE" --namespace "$NS" \
    --proxied-kubeconfig "$work/proxied.yaml" --proxy-log "$work/proxy.log" --out "$out" \
    --runs "${BENCH_RUNS:-20}"
cleanup_runner
# How a cold run's code reaches its pod: the experiment behind the design.
/usr/bin/python3 bench/delivery.py --kubeconfig "$GKX_E2E_KUBECONFIG" --namespace "$NS" --image "$IMAGE" \
    --out "$out" --rounds "${BENCH_DELIVERY_ROUNDS:-20}"
cat "$out/environment.txt"
