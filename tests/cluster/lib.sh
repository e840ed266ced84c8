# Shared settings for the local test cluster scripts. Sourced, not run.
# Everything slow to build (Kubernetes binaries, images) is cached outside the
# checkout, keyed by version, so a repeat run on the same machine is fast.

K8S_VERSION=1.20.2
GKX_CACHE=${GKX_CACHE:-/var/cache/gkexec}
K8S_BIN=$GKX_CACHE/k8s-$K8S_VERSION/bin
IMAGE_DIR=$GKX_CACHE/images
KUBECTL=$GKX_CACHE/kubectl-1.20/usr/bin/kubectl
# Runtime state of a running cluster: certificates, data, logs, pid files.
CLUSTER_DIR=${GKX_CLUSTER_DIR:-/var/lib/gkexec-cluster}

# Local images, referenced by a tag that is already present so that the
# runtime never tries a registry (pull policy IfNotPresent).
PYTHON_IMAGE=localhost/gkexec/python:3.11-slim
PAUSE_IMAGE=localhost/gkexec/pause:1

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }

API_PORT=${GKX_API_PORT:-16443}
ETCD_PORT=${GKX_ETCD_PORT:-12379}
KUBELET_PORT=${GKX_KUBELET_PORT:-11250}
BRIDGE=gkx0
PIDS=$CLUSTER_DIR/pids
LOGS=$CLUSTER_DIR/logs
PKI=$CLUSTER_DIR/pki
CTRD=$CLUSTER_DIR/containerd
CTRD_SOCK=$CTRD/containerd.sock
KUBELET_ROOT=$CLUSTER_DIR/kubelet
ADMIN_KUBECONFIG=$CLUSTER_DIR/admin.kubeconfig

# start NAME CMD...: run a daemon detached from the caller's terminal and
# pipes (so ctest does not wait on it), record its pid, log to a file.
start() {
    local name=$1; shift
    mkdir -p "$PIDS" "$LOGS"
    setsid "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
    echo $! >"$PIDS/$name.pid"
}

# alive NAME: the recorded process still runs.
alive() {
    local pid
    pid=$(cat "$PIDS/$1.pid" 2>/dev/null) || return 1
    kill -0 "$pid" 2>/dev/null
}

# wait_for WHAT SECONDS COMPONENT CMD...: poll until CMD succeeds; if the
# component dies or time runs out, show the tail of its log and fail.
wait_for() {
    local what=$1 secs=$2 comp=$3; shift 3
    local end=$(( $(date +%s) + secs ))
    until "$@" >/dev/null 2>&1; do
        if ! alive "$comp" || [ "$(date +%s)" -ge "$end" ]; then
            printf '[cluster] %s did not become ready (%s); last lines of %s:\n' "$what" \
                "$(alive "$comp" && echo "timed out after ${secs}s" || echo "process exited")" \
                "$LOGS/$comp.log" >&2
            tail -n 25 "$LOGS/$comp.log" >&2 || true
            return 1
        fi
        sleep 0.2
    done
}

kc() { "$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }
