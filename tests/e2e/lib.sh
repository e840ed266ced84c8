# Shared helpers for the end-to-end tests. Sourced by each test script.
#
# The tests run against the cluster named by GKX_E2E_KUBECONFIG when it is
# set (any cluster: a GKE one with real gVisor nodes works unchanged), else
# against the local cluster tests/cluster/up.sh started. Without either
# they exit 77, which CTest reports as skipped.
set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$E2E_DIR/../cluster/lib.sh"

if [ -z "${GKX_E2E_KUBECONFIG:-}" ]; then
    if [ -f "$CLUSTER_DIR/env" ]; then
        set -a; . "$CLUSTER_DIR/env"; set +a
    else
        echo "no cluster: set GKX_E2E_KUBECONFIG or let tests/cluster/up.sh start one; skipping"
        exit 77
    fi
fi
# Defaults for a user's own cluster: its namespace, the product's default
# image, the kubectl on PATH.
NS=${GKX_E2E_NAMESPACE:-default}
IMAGE=${GKX_E2E_IMAGE:-python:3.11-slim}
K=${GKX_E2E_KUBECTL:-kubectl}
PLUGIN=${GKX_E2E_PLUGIN:?GKX_E2E_PLUGIN must name the installed kubectl-sandbox_run}
export KUBECONFIG=$GKX_E2E_KUBECONFIG
SELECTOR=app.kubernetes.io/managed-by=kubectl-sandbox-run
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fails=0
fail() { printf 'FAIL: %s\n' "$*"; fails=$((fails + 1)); }
pass() { printf 'ok: %s\n' "$*"; }

# sr ARGS...: run the plugin with the test cluster's namespace and image;
# stdout to $WORK/out, stderr to $WORK/err, status in $rc, seconds in $secs.
sr() {
    local t0 t1
    t0=$(date +%s%N)
    "$PLUGIN" -n "$NS" --image "$IMAGE" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    t1=$(date +%s%N)
    secs=$(( (t1 - t0) / 1000000000 ))
}

expect_rc() {
    if [ "$rc" = "$1" ]; then pass "$2: exit $rc"; else
        fail "$2: exit $rc, want $1"; echo "--- stdout"; cat "$WORK/out"; echo "--- stderr"; cat "$WORK/err"
    fi
}

expect_out() {
    if diff -u <(printf '%s' "$1") "$WORK/out" >/dev/null; then pass "$2: output"; else
        fail "$2: output differs"; diff -u <(printf '%s' "$1") "$WORK/out"
    fi
}

expect_err_contains() {
    if grep -qF -- "$1" "$WORK/err"; then pass "$2: stderr names \"$1\""; else
        fail "$2: stderr lacks \"$1\""; cat "$WORK/err"
    fi
}

# No Job, Pod or ConfigMap of the tool remains in the namespace. Deletion
# is asynchronous (the garbage collector removes the pod), so allow 30 s.
expect_no_leftovers() {
    local left=""
    for _ in $(seq 1 150); do
        left=$("$K" -n "$NS" get jobs,pods,configmaps -l "$SELECTOR" -o name 2>&1) || left="kubectl failed: $left"
        [ -z "$left" ] && { pass "$1: nothing left in $NS"; return; }
        sleep 0.2
    done
    fail "$1: left behind in $NS: $left"
    "$K" -n "$NS" delete jobs,configmaps -l "$SELECTOR" --wait=false >/dev/null 2>&1
}

# runner_token: a ServiceAccount in $NS allowed to run sandboxes (ClusterRole
# edit), its token in $RUNNER_TOKEN; removed by cleanup_runner.
RUNNER_SA=gkexec-e2e-runner-$$
runner_token() {
    "$K" -n "$NS" create serviceaccount "$RUNNER_SA" >/dev/null || return 1
    "$K" -n "$NS" create rolebinding "$RUNNER_SA" --clusterrole=edit \
        --serviceaccount="$NS:$RUNNER_SA" >/dev/null || return 1
    RUNNER_TOKEN=""
    local secret
    for _ in $(seq 1 100); do
        secret=$("$K" -n "$NS" get serviceaccount "$RUNNER_SA" -o 'jsonpath={.secrets[0].name}' 2>/dev/null)
        [ -n "$secret" ] && RUNNER_TOKEN=$("$K" -n "$NS" get secret "$secret" -o 'jsonpath={.data.token}' | base64 -d)
        [ -n "$RUNNER_TOKEN" ] && return 0
        sleep 0.2
    done
    return 1
}
cleanup_runner() {
    "$K" -n "$NS" delete serviceaccount "$RUNNER_SA" --ignore-not-found >/dev/null 2>&1
    "$K" -n "$NS" delete rolebinding "$RUNNER_SA" --ignore-not-found >/dev/null 2>&1
}

# The API server and its CA, from the test kubeconfig.
view() { "$K" config view --raw --minify -o "jsonpath=$1"; }

finish() {
    if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed"; exit 1; fi
    echo "all checks passed"
}
