#!/usr/bin/env bash
# Ctrl-C and friends at every stage of a run: while the Job is being
# created, between the Job and its ConfigMap, while the pod is Pending,
# while the script runs and its log streams. Each time the plugin deletes
# what it made and exits as shells do (130, 143, 129). Then 50 runs cut at
# random moments leave nothing behind either.
. "$(dirname "$0")/lib.sh"

trap 'stop_proxy; cleanup_runner; rm -rf "$WORK"' EXIT
runner_token || { fail "no ServiceAccount token"; finish; }
start_proxy
J="/apis/batch/v1/namespaces/$NS/jobs"
C="/api/v1/namespaces/$NS/configmaps"

printf 'import time\nprint("started", flush=True)\ntime.sleep(120)\n' >"$WORK/long.py"

# interrupt NAME SIGNAL WANT-RC WAIT-CMD [PLUGIN-ARGS...]: start a run, wait
# until WAIT-CMD succeeds, send SIGNAL, and check the exit and the namespace.
interrupt() {
    local name=$1 sig=$2 want=$3 waitcmd=$4; shift 4
    : >"$WORK/out"; : >"$WORK/err"; : >"$WORK/proxy.log"
    KUBECONFIG="$WORK/proxied.yaml" "$PLUGIN" -v 1 --image "$IMAGE" "$@" "$WORK/long.py" \
        >"$WORK/out" 2>"$WORK/err" &
    local pid=$! t0 t1
    for _ in $(seq 1 300); do eval "$waitcmd" && break; sleep 0.05; done
    eval "$waitcmd" || fail "$name: the stage was never reached"
    t0=$(date +%s%N)
    kill -s "$sig" "$pid"
    wait "$pid"
    rc=$?
    t1=$(date +%s%N)
    expect_rc "$want" "$name ($sig)"
    [ $(( (t1 - t0) / 1000000 )) -lt 15000 ] && pass "$name: exited $(( (t1 - t0) / 1000000 )) ms after the signal" \
        || fail "$name: took $(( (t1 - t0) / 1000000 )) ms after the signal"
    expect_err_contains "interrupted" "$name"
    expect_no_leftovers "$name" 120
}

printf '%s' "[{\"match\": \"POST $J\", \"action\": \"delay\", \"seconds\": 2}]" >"$WORK/rules.json"
interrupt "while the Job is being created" INT 130 'grep -q "> POST $J" "$WORK/proxy.log"'

# A run whose code goes over the exec has no ConfigMap (with --network=none
# its NetworkPolicy follows the Job); one whose exec is refused (403) has
# its code in one.
N="/apis/networking.k8s.io/v1/namespaces/$NS/networkpolicies"
printf '%s' "[{\"match\": \"POST $N\", \"action\": \"delay\", \"seconds\": 2}]" >"$WORK/rules.json"
interrupt "between the Job and its NetworkPolicy" TERM 143 'grep -q "> POST $N" "$WORK/proxy.log"' \
    --network=none
printf '%s' "[{\"match\": \"/exec?\", \"action\": \"status\", \"status\": 403},
  {\"match\": \"POST $C\", \"action\": \"delay\", \"seconds\": 2}]" >"$WORK/rules.json"
interrupt "between the Job and its ConfigMap" TERM 143 'grep -q "> POST $C" "$WORK/proxy.log"'

echo '[]' >"$WORK/rules.json"
interrupt "while the pod is Pending (unschedulable)" HUP 129 \
    'grep -q "waiting for a node" "$WORK/err" && sleep 1' --cpu 64 --start-timeout 60s

interrupt "while the script runs and its log streams" INT 130 'grep -q started "$WORK/out"'
interrupt "while the script runs, SIGTERM" TERM 143 'grep -q started "$WORK/out"'

# 50 runs, each cut at a random moment between 0 and 2.5 s: finished (0)
# or interrupted (130), never anything else, and nothing left at the end.
printf 'import time\ntime.sleep(1)\nprint("done")\n' >"$WORK/short.py"
bad=0 finished=0 interrupted=0
for i in $(seq 1 50); do
    "$PLUGIN" -n "$NS" --image "$IMAGE" "$WORK/short.py" >/dev/null 2>"$WORK/err.$i" &
    pid=$!
    sleep "$(python3 -c 'import random; print(round(random.uniform(0, 2.5), 2))')"
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    case $? in
        0) finished=$((finished + 1)) ;;
        130) interrupted=$((interrupted + 1)) ;;
        *) bad=$((bad + 1)); cat "$WORK/err.$i" ;;
    esac
done
[ "$bad" = 0 ] && pass "50 random interruptions: $finished finished, $interrupted interrupted" \
    || fail "$bad of 50 runs ended otherwise"
# A pod deleted while the kubelet is still creating its containers can stay
# Terminating until the kubelet's next sync of it, about a minute in 1.20
# (the Job and the ConfigMap are gone at once): allow two.
expect_no_leftovers "after 50 random interruptions" 120
finish
