#!/usr/bin/env bash
# Warm runs under gVisor: a pool of parked sandboxes, runs that claim one,
# stdout and stderr apart, exit codes, files, arguments and environment;
# 20 concurrent runs against a pool of 5, no sandbox serving two runs;
# Ctrl-C; a pool of another shape never used; parked pods that expire by
# themselves; a runner without pods/exec told so; nothing left after
# `pool delete`.
. "$(dirname "$0")/lib.sh"

pool() { "$PLUGIN" -n "$NS" --image "$IMAGE" pool "$@"; }
# json_field FILE KEY: a field of a RunResult printed by -o json.
json_field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v if v is not None else "null")' "$1" "$2"; }

pool delete --all -q >/dev/null 2>&1
pool create --size 3 >"$WORK/pool.out" 2>&1
if grep -q "3 parked" "$WORK/pool.out"; then pass "pool create: 3 parked"; else
    fail "pool create: $(cat "$WORK/pool.out")"; fi

# --- stdout and stderr apart, the exit code, files, arguments, environment
cat >"$WORK/w.py" <<'PY'
import os, sys
print("out", sys.argv[1:], os.environ["GREETING"], open("data.txt").read().strip())
print("err", file=sys.stderr)
print("out again")
sys.exit(7)
PY
echo "from a file" >"$WORK/data.txt"
sr -e GREETING=hello -f "$WORK/data.txt" "$WORK/w.py" -- "a b" ""
expect_rc 7 "warm: the script's exit code"
expect_out "out ['a b', ''] hello from a file
out again
" "warm: stdout alone on stdout"
if [ "$(cat "$WORK/err")" = "err" ]; then pass "warm: stderr alone on stderr"; else
    fail "warm: stderr was: $(cat "$WORK/err")"; fi

sr -o json "$WORK/w.py" -e GREETING=x -f "$WORK/data.txt"
if [ "$(json_field "$WORK/out" warm)" = True ] && [ "$(json_field "$WORK/out" stderr)" = "err" ] &&
    [ "$(json_field "$WORK/out" exitCode)" = 7 ]; then
    pass "warm: -o json has warm, stdout, stderr and the exit code"
else fail "warm -o json: $(cat "$WORK/out")"; fi

# --- a big script (1 MiB in all) goes in over stdin too
python3 -c 'print("x = 1\n" * 170000 + "print(len(open(__file__).read()))")' >"$WORK/big.py"
sr "$WORK/big.py"
expect_rc 0 "warm: a 1 MiB script"
expect_out "$(( $(wc -c <"$WORK/big.py") ))
" "warm: the whole big script arrived"

# --- the pool keeps its size: every claim starts a replacement
sleep 6
pool status >"$WORK/st" 2>&1
if grep -qE ": 3 parked|: [0-9] parked, [1-9] starting" "$WORK/st"; then pass "pool refilled: $(cat "$WORK/st")"; else
    fail "pool not refilled: $(cat "$WORK/st")"; fi

# --- 20 concurrent runs from separate processes against a pool of 5
pool create --size 5 >/dev/null 2>&1
echo 'import time; time.sleep(0.5); print("done")' >"$WORK/c.py"
for i in $(seq 1 20); do
    "$PLUGIN" -n "$NS" --image "$IMAGE" -o json "$WORK/c.py" >"$WORK/c$i.json" 2>"$WORK/c$i.err" &
done
wait
python3 - "$WORK" <<'PY' >"$WORK/conc.out"
import json, sys, collections
rs = [json.load(open(f"{sys.argv[1]}/c{i}.json")) for i in range(1, 21)]
ok = sum(1 for r in rs if r["ok"] and r["output"] == "done\n")
warm = [r["pod"] for r in rs if r["warm"]]
dup = [p for p, n in collections.Counter(warm).items() if n > 1]
print(ok, len(warm), len(set(warm)), ",".join(dup) or "none")
PY
read -r ok nwarm nuniq dups <"$WORK/conc.out"
if [ "$ok" = 20 ]; then pass "20 concurrent runs all completed ($nwarm warm, $((20 - nwarm)) cold)"; else
    fail "only $ok of 20 concurrent runs completed"; cat "$WORK"/c*.err | head; fi
if [ "$nwarm" -ge 1 ] && [ "$nwarm" = "$nuniq" ] && [ "$dups" = none ]; then
    pass "no sandbox served two runs ($nwarm warm runs, $nuniq pods)"; else
    fail "a sandbox served two runs: $dups"; fi

# --- Ctrl-C mid-run: 130, and the claimed pod goes
echo 'import time; print("napping", flush=True); time.sleep(60)' >"$WORK/nap.py"
sleep 4 # parked again
"$PLUGIN" -n "$NS" --image "$IMAGE" -v=1 "$WORK/nap.py" >"$WORK/out" 2>"$WORK/err" &
pid=$!
for _ in $(seq 1 100); do grep -q napping "$WORK/out" 2>/dev/null && break; sleep 0.1; done
claimed=$(sed -n 's/^sandbox-run: claimed //p' "$WORK/err")
kill -INT "$pid"
wait "$pid"
rc=$?
expect_rc 130 "warm: Ctrl-C"
if [ -n "$claimed" ]; then
    gone=""
    for _ in $(seq 1 150); do
        "$K" -n "$NS" get pod "$claimed" >/dev/null 2>&1 || { gone=1; break; }
        sleep 0.2
    done
    if [ -n "$gone" ]; then pass "warm: the interrupted run's pod $claimed is gone"; else
        fail "warm: pod $claimed still there after Ctrl-C"; fi
else fail "warm: Ctrl-C run did not claim a pod: $(cat "$WORK/err")"; fi

# --- a pool of another shape is never used
pool delete --all -q >/dev/null
"$PLUGIN" -n "$NS" --image "$IMAGE" --memory 256Mi pool create --size 1 >/dev/null 2>&1
sr -o json "$WORK/c.py"
if [ "$(json_field "$WORK/out" warm)" = False ] && [ "$(json_field "$WORK/out" ok)" = True ]; then
    pass "a run of another shape (512Mi) made a Job, not a 256Mi sandbox"; else
    fail "shape: $(cat "$WORK/out")"; fi
sr --memory 256Mi -o json "$WORK/c.py"
if [ "$(json_field "$WORK/out" warm)" = True ]; then pass "the same shape (256Mi) took the parked sandbox"; else
    fail "same shape not warm: $(cat "$WORK/out")"; fi

# --- parked pods expire by themselves
pool delete --all -q >/dev/null
pool create --size 2 --ttl 15s >/dev/null 2>&1
sleep 25
pool status >"$WORK/st" 2>&1
if grep -q " 0 parked" "$WORK/st"; then pass "parked pods expired after their TTL: $(cat "$WORK/st")"; else
    fail "parked pods did not expire: $(cat "$WORK/st")"; fi
sr -o json "$WORK/c.py"
if [ "$(json_field "$WORK/out" warm)" = False ]; then pass "an expired pool is not used"; else
    fail "an expired sandbox was used: $(cat "$WORK/out")"; fi

# --- a runner without pods/exec is told what is missing
pool create --size 1 >/dev/null 2>&1
SA=gkexec-e2e-noexec-$$
trap '"$K" -n "$NS" delete serviceaccount,role,rolebinding "$SA" --ignore-not-found >/dev/null 2>&1; rm -rf "$WORK"' EXIT
"$K" -n "$NS" create serviceaccount "$SA" >/dev/null
"$K" -n "$NS" create role "$SA" --verb=create,delete,get,list,watch,patch \
    --resource=jobs.batch,configmaps,pods,pods/log,events >/dev/null
"$K" -n "$NS" create rolebinding "$SA" --role="$SA" --serviceaccount="$NS:$SA" >/dev/null
sa_token "$SA" || fail "no token for $SA"
cat >"$WORK/noexec.yaml" <<KC
apiVersion: v1
clusters: [{name: c, cluster: {server: "$(view '{.clusters[0].cluster.server}')", certificate-authority-data: "$(view '{.clusters[0].cluster.certificate-authority-data}')"}}]
users: [{name: u, user: {token: "$SA_TOKEN"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: "$NS"}}]
current-context: c
KC
sleep 4 # the sandbox parked
KUBECONFIG=$WORK/noexec.yaml sr "$WORK/c.py"
expect_rc 125 "warm without pods/exec"
expect_err_contains 'pods/exec' "warm without pods/exec"
expect_err_contains 'a warm run needs' "warm without pods/exec"
KUBECONFIG=$WORK/noexec.yaml sr --cold "$WORK/c.py"
expect_rc 0 "the same runner with --cold"

# --- nothing left after pool delete
pool delete --all >"$WORK/del" 2>&1
if grep -q "^deleted" "$WORK/del"; then pass "pool delete: $(cat "$WORK/del")"; else fail "pool delete: $(cat "$WORK/del")"; fi
expect_no_leftovers "after pool delete" 120
finish
