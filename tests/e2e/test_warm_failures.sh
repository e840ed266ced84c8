#!/usr/bin/env bash
# Warm runs when things go wrong (issue 23): `pool delete` and a run at
# once (the run is not killed, the pool does not come back); a parked pod
# deleted under a run (the reason says so); and through the fault proxy: an
# exec upgrade never answered (the run goes on as a Job and says so), the
# exec stream reset after the code was sent (a clear reason, nothing left),
# and a claim whose answer is lost after it landed (the run uses that pod;
# no pod stays claimed by nobody).
. "$(dirname "$0")/lib.sh"

trap 'stop_proxy; cleanup_runner; rm -rf "$WORK"' EXIT
pool() { "$PLUGIN" -n "$NS" --image "$IMAGE" pool "$@"; }
json_field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if v is not None else "null")' "$1" "$2"; }
POOLSEL="$SELECTOR,sandbox-run.gkexec.dev/pool"
# count_state STATE: pods of a pool in that state, but those being deleted
# (the 1.20 kubelet can keep one Terminating for up to a minute).
count_state() {
    "$K" -n "$NS" get pods -l "$POOLSEL,sandbox-run.gkexec.dev/state=$1" -o json 2>/dev/null |
        python3 -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["items"] if not p["metadata"].get("deletionTimestamp")))'
}

cat >"$WORK/eight.py" <<'PY'
import time
print("first", flush=True)
time.sleep(4)
print("second", flush=True)
time.sleep(4)
PY

# --- pool delete, then a run at once
pool delete --all -q >/dev/null 2>&1
pool create --size 2 >/dev/null 2>&1
pool delete >"$WORK/del" 2>&1
sr -v=1 "$WORK/eight.py"
expect_rc 0 "a run right after pool delete"
expect_out "first
second
" "a run right after pool delete"
sleep 20
left=$("$K" -n "$NS" get jobs -l "$POOLSEL" -o name 2>&1)
parked=$(count_state parked)
if [ -z "$left" ] && [ "$parked" = 0 ]; then pass "20 s after pool delete and a run: no parked pod, no Job of a pool"; else
    fail "left after pool delete and a run: $parked parked, Jobs: $left"; fi
expect_no_leftovers "pool delete, then a run" 120

# --- a parked pod deleted while a run uses it
pool create --size 1 >/dev/null 2>&1
"$PLUGIN" -n "$NS" --image "$IMAGE" -v=1 "$WORK/eight.py" >"$WORK/out" 2>"$WORK/err" &
pid=$!
claimed=""
for _ in $(seq 1 100); do
    claimed=$(sed -n 's/^sandbox-run: claimed //p' "$WORK/err")
    [ -n "$claimed" ] && grep -q first "$WORK/out" && break
    sleep 0.1
done
if [ -n "$claimed" ]; then
    "$K" -n "$NS" delete pod "$claimed" --wait=false >/dev/null
    wait "$pid"
    rc=$?
    if [ "$rc" = 137 ] || [ "$rc" = 125 ]; then pass "pod deleted under the run: exit $rc"; else
        fail "pod deleted under the run: exit $rc"; cat "$WORK/err"; fi
    expect_err_contains "deleted while the script ran" "pod deleted under the run"
else
    wait "$pid"
    fail "the run did not claim the parked pod: $(cat "$WORK/err")"
fi
pool delete --all -q >/dev/null 2>&1
expect_no_leftovers "pod deleted under the run" 120

# --- through the fault proxy
runner_token || { fail "no ServiceAccount token"; finish; }
start_proxy
echo 'import sys; print("hello"); sys.exit(3)' >"$WORK/three.py"
P="/api/v1/namespaces/$NS/pods"
prun() {
    local t0=$SECONDS
    KUBECONFIG="$WORK/proxied.yaml" "$PLUGIN" --image "$IMAGE" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    secs=$((SECONDS - t0))
}
# faulty RULES: install the rules, with a pool of one parked sandbox.
faulty() {
    pool create --size 1 >/dev/null 2>&1
    printf '%s' "$1" >"$WORK/rules.json"
    : >"$WORK/proxy.log"
}
injected() {
    if grep -q -- "$1" "$WORK/proxy.log"; then pass "$2: the fault was injected"; else
        fail "$2: the fault never happened"; cat "$WORK/proxy.log"; fi
}

# An exec upgrade that is never answered: the parked sandbox is given up
# after 5 s, the run goes on as a Job and ends with the script's code.
faulty "[{\"match\": \"GET $P/sandbox-pool-\", \"action\": \"delay\", \"seconds\": 30, \"times\": 1}]"
prun -v=1 "$WORK/three.py"
injected "$P/sandbox-pool-" "exec upgrade never answered"
expect_rc 3 "exec upgrade never answered"
expect_out "hello
" "exec upgrade never answered"
expect_err_contains "gave up the parked sandbox" "exec upgrade never answered"
expect_err_contains "no answer within 5 s" "exec upgrade never answered"
# The proxy holds the upgrade 30 s: a run that waited for it took that long.
[ "$secs" -lt 20 ] && pass "exec upgrade never answered: over in $secs s" ||
    fail "exec upgrade never answered: took $secs s"
echo '[]' >"$WORK/rules.json"
pool delete --all -q >/dev/null 2>&1
expect_no_leftovers "exec upgrade never answered" 120

# The exec stream reset after the code was sent: nothing is run again, the
# reason says the connection broke, and the sandbox goes.
faulty "[{\"match\": \"GET $P/sandbox-pool-\", \"action\": \"cut\", \"seconds\": 2, \"times\": 1}]"
prun -o json "$WORK/eight.py"
injected "upgrade reset after" "exec reset mid-stream"
expect_rc 125 "exec reset mid-stream"
if [ "$(json_field "$WORK/out" reason)" = ConnectionLost ] &&
    json_field "$WORK/out" error | grep -q "connection to the sandbox broke"; then
    pass "exec reset mid-stream: reason ConnectionLost, and the error says what broke"; else
    fail "exec reset mid-stream: $(cat "$WORK/out")"; fi
echo '[]' >"$WORK/rules.json"
pool delete --all -q >/dev/null 2>&1
expect_no_leftovers "exec reset mid-stream" 60

# The claim's PATCH is applied, and its answer replaced by a 500: the run
# reads the pod back, sees its own claim, and uses it; no pod is left
# claimed by nobody.
faulty "[{\"match\": \"PATCH $P/sandbox-pool-\", \"action\": \"lose\", \"status\": 500, \"times\": 1}]"
prun -o json "$WORK/three.py"
injected "500 after the server answered 200" "claim answer lost"
expect_rc 3 "claim answer lost"
if [ "$(json_field "$WORK/out" warm)" = True ]; then pass "claim answer lost: the run used the pod it claimed"; else
    fail "claim answer lost: not warm: $(cat "$WORK/out")"; fi
n=$(grep -c "^> PATCH $P/sandbox-pool-" "$WORK/proxy.log")
[ "$n" = 1 ] && pass "claim answer lost: the claim was sent once" || fail "claim answer lost: $n claims sent"
# The used pod is being deleted with its Job; before the fix the first pod
# stayed claimed by nobody until its deadline.
for _ in $(seq 1 50); do n=$(count_state claimed); [ "$n" = 0 ] && break; sleep 0.2; done
[ "$n" = 0 ] && pass "claim answer lost: no pod left claimed" || fail "claim answer lost: $n pods left claimed"
echo '[]' >"$WORK/rules.json"
pool delete --all -q >/dev/null 2>&1
expect_no_leftovers "claim answer lost" 120
finish
