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
        # The file names the default namespace; one the caller chose wins.
        ns_given=${GKX_E2E_NAMESPACE:-}
        set -a; . "$CLUSTER_DIR/env"; set +a
        GKX_E2E_NAMESPACE=${ns_given:-$GKX_E2E_NAMESPACE}
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

# expect_no_leftovers NAME [SECONDS]: no Job, Pod, ConfigMap or NetworkPolicy of the tool
# remains in the namespace. Deletion is asynchronous (the garbage collector
# removes the pod), so allow 30 s unless told otherwise. A pod deleted
# before its container started (pulling, creating) can stay Terminating
# until the 1.20 kubelet's next sync of it, about a minute later: the cases
# that end that way pass 120.
expect_no_leftovers() {
    local left="" tries=$(( ${2:-30} * 5 ))
    for _ in $(seq 1 "$tries"); do
        left=$("$K" -n "$NS" get jobs,pods,configmaps,networkpolicies -l "$SELECTOR" -o name 2>&1) ||
            left="kubectl failed: $left"
        [ -z "$left" ] && { pass "$1: nothing left in $NS"; return; }
        sleep 0.2
    done
    fail "$1: left behind in $NS: $left"
    "$K" -n "$NS" delete jobs,configmaps,networkpolicies -l "$SELECTOR" --wait=false >/dev/null 2>&1
}

# runner_token: a ServiceAccount in $NS allowed to run sandboxes (ClusterRole
# edit), its token in $RUNNER_TOKEN; removed by cleanup_runner.
RUNNER_SA=gkexec-e2e-runner-$$
runner_token() {
    "$K" -n "$NS" create serviceaccount "$RUNNER_SA" >/dev/null || return 1
    "$K" -n "$NS" create rolebinding "$RUNNER_SA" --clusterrole=edit \
        --serviceaccount="$NS:$RUNNER_SA" >/dev/null || return 1
    sa_token "$RUNNER_SA" && RUNNER_TOKEN=$SA_TOKEN
}
# sa_token NAME: the token of ServiceAccount NAME in $NS, in $SA_TOKEN (from
# its token Secret, which the 1.20 token controller creates).
sa_token() {
    local secret
    SA_TOKEN=""
    for _ in $(seq 1 100); do
        secret=$("$K" -n "$NS" get serviceaccount "$1" -o 'jsonpath={.secrets[0].name}' 2>/dev/null)
        [ -n "$secret" ] && SA_TOKEN=$("$K" -n "$NS" get secret "$secret" -o 'jsonpath={.data.token}' | base64 -d)
        [ -n "$SA_TOKEN" ] && return 0
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

# start_proxy: tests/e2e/faultproxy.py between us and the API server, with
# $WORK/rules.json for faults, $WORK/proxy.log for what it saw, and
# $WORK/proxied.yaml, a kubeconfig that reaches the cluster through it as
# the runner ServiceAccount (call runner_token first), at $PROXY_URL. With
# $BASIC_AUTH_FILE set (a file of user:password:token lines) the proxy also takes
# HTTP basic authentication. Stopped at exit.
start_proxy() {
    view '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$WORK/upstream-ca.crt"
    local upstream port
    upstream=$(view '{.clusters[0].cluster.server}')
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/proxy.key" -out "$WORK/proxy.crt" -days 1 \
        -subj /CN=faultproxy -addext subjectAltName=IP:127.0.0.1 2>/dev/null
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo '[]' >"$WORK/rules.json"
    python3 "$E2E_DIR/faultproxy.py" --listen-port "$port" --cert "$WORK/proxy.crt" --key "$WORK/proxy.key" \
        --upstream "$upstream" --upstream-ca "$WORK/upstream-ca.crt" \
        --rules "$WORK/rules.json" --log "$WORK/proxy.log" \
        ${BASIC_AUTH_FILE:+--basic-auth "$BASIC_AUTH_FILE"} >"$WORK/proxy.out" 2>&1 &
    PROXY_PID=$!
    PROXY_URL=https://127.0.0.1:$port
    for _ in $(seq 1 50); do grep -q ready "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
    cat >"$WORK/proxied.yaml" <<KC
apiVersion: v1
clusters: [{name: p, cluster: {server: "https://127.0.0.1:$port", certificate-authority: proxy.crt}}]
users: [{name: u, user: {token: "$RUNNER_TOKEN"}}]
contexts: [{name: p, context: {cluster: p, user: u, namespace: "$NS"}}]
current-context: p
KC
}
stop_proxy() { [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null; }

finish() {
    if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed"; exit 1; fi
    echo "all checks passed"
}
