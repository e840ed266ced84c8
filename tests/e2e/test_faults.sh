#!/usr/bin/env bash
# Runs through a proxy that breaks things on purpose: 429 with Retry-After,
# 500s, connection resets, watches cut short or answered with 410, execs
# refused or reset, log streams dropped mid-line, deletes reset. Each run
# completes correctly or fails with a clear error, and leaves nothing
# behind.
. "$(dirname "$0")/lib.sh"

trap 'stop_proxy; cleanup_runner; rm -rf "$WORK"' EXIT
runner_token || { fail "no ServiceAccount token"; finish; }
start_proxy

cat >"$WORK/lines.py" <<'PY'
import time
for i in range(6):
    print(f"line {i}")
    time.sleep(0.4)
PY
want="line 0
line 1
line 2
line 3
line 4
line 5
"
J="/apis/batch/v1/namespaces/$NS/jobs"
C="/api/v1/namespaces/$NS/configmaps"
P="/api/v1/namespaces/$NS/pods"

# case NAME RULES-JSON: one run through the proxy with these faults.
case_ok() {
    printf '%s' "$2" >"$WORK/rules.json"
    : >"$WORK/proxy.log"
    KUBECONFIG="$WORK/proxied.yaml" "$PLUGIN" --image "$IMAGE" "$WORK/lines.py" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    expect_rc 0 "$1"
    expect_out "$want" "$1: whole output, once"
    if [ -n "${3:-}" ]; then
        grep -q -- "$3" "$WORK/proxy.log" && pass "$1: fault was injected" || {
            fail "$1: the fault never happened"; cat "$WORK/proxy.log"; }
    fi
    expect_no_leftovers "$1"
}

case_ok "no faults" '[]'
# The plugin counts its own requests; the proxy saw the same number.
: >"$WORK/proxy.log"
KUBECONFIG="$WORK/proxied.yaml" "$PLUGIN" --image "$IMAGE" -o json "$WORK/lines.py" >"$WORK/json" 2>/dev/null
said=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["apiRequests"])' "$WORK/json")
seen=$(grep -c '^>' "$WORK/proxy.log")
[ "$said" = "$seen" ] && pass "apiRequests ($said) matches what the proxy saw" || fail "apiRequests $said, proxy saw $seen"
grep '^>' "$WORK/proxy.log" | sed 's/^/  /'
expect_no_leftovers "counted run"

case_ok "429 with Retry-After on the Job's create" \
    "[{\"match\": \"POST $J\", \"action\": \"status\", \"status\": 429, \"retry_after\": 1, \"times\": 2}]" "429 (injected)"
case_ok "connection reset on the Job's create" \
    "[{\"match\": \"POST $J\", \"action\": \"reset\", \"times\": 1}]" "reset (injected)"
case_ok "watch reset" \
    "[{\"match\": \"GET $P?labelSelector\", \"action\": \"reset\", \"times\": 2}]" "reset (injected)"
case_ok "watch cut short, twice" \
    "[{\"match\": \"GET $P?labelSelector\", \"action\": \"cut\", \"after_bytes\": 300, \"times\": 2}]" "cut after"
case_ok "watch answered with 410" \
    "[{\"match\": \"GET $P?labelSelector\", \"action\": \"gone\", \"times\": 1}]" "410 event"
# The exec that starts the code: refused and reset before it opens, it is
# tried again.
case_ok "exec answered 500, twice" \
    "[{\"match\": \"/exec?\", \"action\": \"status\", \"status\": 500, \"times\": 2}]" "500 (injected)"
case_ok "exec reset, twice" \
    "[{\"match\": \"/exec?\", \"action\": \"reset\", \"times\": 2}]" "reset (injected)"
# Without the right to exec (403), the run starts over as a Job whose
# container runs the script itself; its log is read, through these faults.
NOEXEC="{\"match\": \"/exec?\", \"action\": \"status\", \"status\": 403}"
case_ok "followed log dropped mid-line" \
    "[$NOEXEC, {\"match\": \"follow=true\", \"action\": \"cut\", \"after_bytes\": 10, \"times\": 2}]" "cut after 10"
case_ok "500 on the ConfigMap's create" \
    "[$NOEXEC, {\"match\": \"POST $C\", \"action\": \"status\", \"status\": 500, \"times\": 1}]" "500 (injected)"
case_ok "log request failing with 500" \
    "[$NOEXEC, {\"match\": \"/log?\", \"action\": \"status\", \"status\": 500, \"times\": 2}]" "500 (injected)"
case_ok "delete reset, then 503" \
    "[$NOEXEC, {\"match\": \"DELETE $J\", \"action\": \"reset\", \"times\": 1},
      {\"match\": \"DELETE $C\", \"action\": \"status\", \"status\": 503, \"times\": 1}]" "reset (injected)"

# A server that keeps refusing: a clear error, and nothing left.
printf '%s' "[{\"match\": \"POST $J\", \"action\": \"status\", \"status\": 503}]" >"$WORK/rules.json"
KUBECONFIG="$WORK/proxied.yaml" "$PLUGIN" --image "$IMAGE" "$WORK/lines.py" >"$WORK/out" 2>"$WORK/err"
rc=$?
expect_rc 125 "persistent 503"
expect_err_contains "creating Job: injected 503" "persistent 503"
expect_no_leftovers "persistent 503"
finish
