#!/usr/bin/env bash
# Each way a run can go wrong, produced for real: the deadline, the memory
# limit, an image that cannot be pulled, a RuntimeClass that does not exist,
# a user who may not create Jobs. Each ends with a clear status and leaves
# nothing behind.
. "$(dirname "$0")/lib.sh"

printf 'import time\nprint("started", flush=True)\ntime.sleep(120)\n' >"$WORK/sleep.py"
sr --timeout 6s "$WORK/sleep.py"
expect_rc 124 "deadline"
expect_err_contains "deadline" "deadline"
grep -q started "$WORK/out" && pass "deadline: output before the kill shown" || fail "deadline: output lost"
[ "$secs" -lt 15 ] && pass "deadline: gave up after ${secs}s" || fail "deadline: took ${secs}s"
expect_no_leftovers "after the deadline"

printf 'x = bytearray(512 * 1024 * 1024)\nprint("survived")\n' >"$WORK/oom.py"
sr --memory 64Mi "$WORK/oom.py"
expect_rc 137 "memory limit"
expect_err_contains "OOMKilled" "memory limit"
expect_no_leftovers "after OOMKilled"

printf 'print(1)\n' >"$WORK/one.py"
# A reference that cannot leave loopback: nothing listens on port 1.
"$PLUGIN" -n "$NS" --image 127.0.0.1:1/missing:1 "$WORK/one.py" >"$WORK/out" 2>"$WORK/err"; rc=$?
expect_rc 125 "missing image"
expect_err_contains "127.0.0.1:1/missing:1" "missing image"
expect_no_leftovers "after a missing image" 120

sr --runtime-class gkexec-no-such-class "$WORK/one.py"
expect_rc 125 "missing RuntimeClass"
expect_err_contains 'RuntimeClass "gkexec-no-such-class" not found' "missing RuntimeClass"
expect_no_leftovers "after a missing RuntimeClass"

if [ -n "${GKX_E2E_RESTRICTED_KUBECONFIG:-}" ]; then
    KUBECONFIG=$GKX_E2E_RESTRICTED_KUBECONFIG sr "$WORK/one.py"
    expect_rc 125 "no permission"
    expect_err_contains 'cannot create resource "jobs" in API group "batch"' "no permission"
    expect_no_leftovers "after a forbidden create"
else
    echo "skip: no GKX_E2E_RESTRICTED_KUBECONFIG for the permission case"
fi

# The largest code a run takes, 1 MiB exactly, runs, over the exec and
# from a ConfigMap (--keep: a Job that runs it itself, under the API
# server's own 1 MiB limit); one byte more is refused before anything is
# made.
python3 - "$WORK/max.py" "$WORK/too-big.py" <<'EOF'
import sys
head = b'print(len(open(__file__, "rb").read()))\n'
for path, size in ((sys.argv[1], 1 << 20), (sys.argv[2], (1 << 20) + 1)):
    with open(path, "wb") as f:
        f.write(head + b"#" * (size - len(head)))
EOF
sr --cold "$WORK/max.py"
expect_rc 0 "code of exactly 1 MiB"
expect_out $'1048576\n' "code of exactly 1 MiB"
expect_no_leftovers "after 1 MiB of code"
sr --cold --keep "$WORK/max.py"
expect_rc 0 "code of exactly 1 MiB in a ConfigMap"
expect_out $'1048576\n' "code of exactly 1 MiB in a ConfigMap"
"$K" -n "$NS" get configmaps -l "$SELECTOR" -o name | grep -q . \
    && pass "1 MiB of code: its ConfigMap was kept" || fail "1 MiB of code: no ConfigMap"
"$K" -n "$NS" delete jobs,configmaps -l "$SELECTOR" >/dev/null
expect_no_leftovers "after 1 MiB of code in a ConfigMap"
sr --cold "$WORK/too-big.py"
expect_rc 125 "code over 1 MiB"
expect_err_contains "1 MiB" "code over 1 MiB"
expect_no_leftovers "after refusing large code"
finish
