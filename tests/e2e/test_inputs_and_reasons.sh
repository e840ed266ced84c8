#!/usr/bin/env bash
# What goes in (extra files, a working directory, an output cap, --keep) and
# every reason a run can end with, each produced for real and read from
# -o json.
. "$(dirname "$0")/lib.sh"

reason_of() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["reason"], d["exitCode"])' "$WORK/out"; }

# Extra files sit beside the script; --workdir moves the working directory.
printf 'rows: 3\n' >"$WORK/data.yaml"
printf 'print("helper says hi")\n' >"$WORK/helper.py"
cat >"$WORK/main.py" <<'PY'
import os, sys
sys.path.insert(0, "/app")
import helper
print(open("/app/data.yaml").read().strip(), os.getcwd())
open("scratch.txt", "w").write("writable")
PY
sr -f "$WORK/data.yaml" --file="$WORK/helper.py" --workdir /tmp "$WORK/main.py"
expect_rc 0 "extra files and --workdir"
expect_out "helper says hi
rows: 3 /tmp
" "extra files and --workdir"
expect_no_leftovers "extra files"

# --limit-bytes: the output stops there and the cut is reported.
printf 'print("x" * 100)\nprint("end")\n' >"$WORK/big.py"
sr --limit-bytes 10 "$WORK/big.py"
expect_rc 0 "--limit-bytes"
expect_out "xxxxxxxxxx" "--limit-bytes keeps the first 10 bytes"
expect_err_contains "output truncated at 10 bytes" "--limit-bytes"
expect_no_leftovers "--limit-bytes"

# --keep leaves both objects and says how to look at them.
printf 'print("kept")\n' >"$WORK/kept.py"
sr --keep "$WORK/kept.py"
expect_rc 0 "--keep"
expect_err_contains "kubectl -n $NS get job,pod,configmap -l sandbox-run.gkexec.dev/run=" "--keep"
kept=$("$K" -n "$NS" get jobs,configmaps -l "$SELECTOR" -o name | wc -l)
[ "$kept" = 2 ] && pass "--keep: the Job and the ConfigMap remain" || fail "--keep: $kept objects remain"
"$K" -n "$NS" delete jobs,configmaps -l "$SELECTOR" >/dev/null
expect_no_leftovers "after deleting what --keep kept"

# Every reason, for real.
check_reason() { # NAME WANT-REASON WANT-EXIT-CODE (None when none) ARGS...
    local name=$1 want=$2 code=$3; shift 3
    sr -o json "$@"
    got=$(reason_of)
    [ "$got" = "$want $code" ] && pass "$name: reason $got" || { fail "$name: got \"$got\", want \"$want $code\""; cat "$WORK/err"; }
    expect_no_leftovers "$name" 120
}
printf 'print(1)\n' >"$WORK/ok.py"
printf 'import sys\nsys.exit(3)\n' >"$WORK/three.py"
printf 'x = bytearray(512 * 1024 * 1024)\n' >"$WORK/oom.py"
printf 'import time\ntime.sleep(60)\n' >"$WORK/slow.py"
check_reason "exit 0" Completed 0 "$WORK/ok.py"
check_reason "exit 3" Error 3 "$WORK/three.py"
check_reason "over the memory limit" OOMKilled 137 --memory 64Mi "$WORK/oom.py"
check_reason "past the deadline" DeadlineExceeded None --timeout 5s "$WORK/slow.py"
check_reason "image not pullable" ImagePullBackOff None --image 127.0.0.1:1/missing:1 "$WORK/ok.py"
check_reason "RuntimeClass missing" FailedCreate None --runtime-class gkexec-no-such-class "$WORK/ok.py"
check_reason "no node fits" Unschedulable None --cpu 64 --start-timeout 5s "$WORK/ok.py"
expect_err_contains "Insufficient cpu" "no node fits: the scheduler's reason"

"$PLUGIN" -n "$NS" --image "$IMAGE" -o json "$WORK/slow.py" >"$WORK/out" 2>"$WORK/err" &
pid=$!
for _ in $(seq 1 100); do "$K" -n "$NS" get pods -l "$SELECTOR" -o name 2>/dev/null | grep -q pod && break; sleep 0.1; done
sleep 1
kill -INT "$pid"
wait "$pid"
rc=$?
expect_rc 130 "interrupted"
got=$(reason_of)
[ "$got" = "Interrupted None" ] && pass "interrupted: reason $got" || fail "interrupted: got \"$got\""
expect_no_leftovers "interrupted" 120
finish
