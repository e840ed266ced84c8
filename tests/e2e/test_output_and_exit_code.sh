#!/usr/bin/env bash
# A script that prints to stdout and stderr and exits 3: both are shown, in
# the order printed, and the plugin exits 3. A successful one exits 0.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/fail3.py" <<'PY'
import sys
print("to stdout")
print("to stderr", file=sys.stderr)
for i in range(5):
    print(f"out {i}")
    print(f"err {i}", file=sys.stderr)
sys.exit(3)
PY
sr "$WORK/fail3.py"
expect_rc 3 "exit code 3"
expect_out "to stdout
to stderr
out 0
err 0
out 1
err 1
out 2
err 2
out 3
err 3
out 4
err 4
" "stdout and stderr in order"
expect_no_leftovers "after exit 3"

printf 'print("hello from the sandbox")\n' >"$WORK/hello.py"
sr "$WORK/hello.py"
expect_rc 0 "success"
expect_out "hello from the sandbox
" "success"
expect_no_leftovers "after success"

# Arguments after --, the script from stdin, environment variables.
printf 'import os, sys\nprint(sys.argv[1:], os.environ["GREETING"])\n' >"$WORK/args.py"
sr -e GREETING=hi "$WORK/args.py" -- one "two words" '$HOME'
expect_rc 0 "arguments"
expect_out "['one', 'two words', '\$HOME'] hi
" "arguments passed through untouched"
printf 'print(6 * 7)\n' | { "$PLUGIN" -n "$NS" --image "$IMAGE" - >"$WORK/out" 2>"$WORK/err"; rc=$?; }
rc=${PIPESTATUS[1]:-$rc}
expect_out "42
" "script from stdin"
expect_no_leftovers "after stdin and arguments"
finish
