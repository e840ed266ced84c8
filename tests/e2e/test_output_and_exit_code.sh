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
# -o json: exactly the fields the README documents, with their types.
printf 'import sys\nprint("json out")\nsys.exit(2)\n' >"$WORK/two.py"
sr -o json "$WORK/two.py"
expect_rc 2 "-o json keeps the exit status"
python3 - "$WORK/out" <<'PY' && pass "-o json matches the documented schema" || fail "-o json schema"
import json, sys
d = json.load(open(sys.argv[1]))
want = {"apiVersion": str, "kind": str, "name": str, "namespace": str, "ok": bool, "exitCode": int,
        "reason": str, "message": type(None), "output": str, "outputTruncated": bool, "timings": dict, "apiRequests": int,
        "status": int, "errorCode": type(None), "error": type(None), "warm": bool, "pod": type(None),
        "stdout": type(None), "stderr": type(None), "outputBase64": type(None),
        "stdoutBase64": type(None), "stderrBase64": type(None)}
assert set(d) == set(want), sorted(d)
for k, t in want.items():
    assert isinstance(d[k], t), (k, d[k])
assert d["apiVersion"] == "sandbox-run.gkexec.dev/v1alpha1" and d["kind"] == "RunResult"
assert (d["ok"], d["exitCode"], d["reason"], d["output"], d["status"]) == (False, 2, "Error", "json out\n", 0)
assert d["warm"] is False  # a Job's run: its streams joined in "output"
assert set(d["timings"]) == {"created", "scheduled", "started", "ended", "finished"}
assert all(isinstance(v, (int, float)) and v >= 0 for v in d["timings"].values())
assert 4 <= d["apiRequests"] <= 16  # a slow start adds exec tries
PY
expect_no_leftovers "after -o json"

# A Job's run hands its code over exec the moment the container runs: the
# container's own process (PID 1) only waits.
printf 'print(open("/proc/1/cmdline").read().split("\\0")[:2])\n' >"$WORK/pid1.py"
sr "$WORK/pid1.py"
expect_rc 0 "started by exec"
expect_out "['sleep', '2147483647']
" "the container only waits; the script came by exec"
expect_no_leftovers "after the exec'd run"

# A script that reads its own path and moves elsewhere: its code stays at
# the absolute path __file__ names, read-only, whatever its working dir.
cat >"$WORK/self.py" <<'PY'
import os
os.chdir("/tmp")
print(os.getcwd(), __file__, open(__file__).read().count("chdir"))
PY
sr "$WORK/self.py"
expect_rc 0 "a script that changes directory"
expect_out "/tmp /app/self.py 2
" "a script that changes directory still reads itself"
expect_no_leftovers "after the chdir script"

# The exec carries a script of up to 2048 bytes as lines that the pod's
# shell writes, one byte more as shell code that `head` writes and the
# shell sources: both arrive byte for byte (non-ASCII, backslashes, what
# looks like shell).
python3 - "$WORK" <<'PY'
import sys
head = ('import hashlib\nb = open(__file__, "rb").read()\n'
        'print(len(b), hashlib.sha256(b).hexdigest())\n'
        '# \u20ac \u0401 \\ \\n $(false) `false` EOF\n\n  \n').encode()
for size in (2048, 2049):
    with open(f"{sys.argv[1]}/s{size}.py", "wb") as f:
        f.write(head + b"#" * (size - len(head) - 1) + b"\n")
PY
for size in 2048 2049; do
    sr "$WORK/s$size.py"
    expect_rc 0 "a script of $size bytes"
    expect_out "$size $(sha256sum <"$WORK/s$size.py" | cut -d' ' -f1)
" "a script of $size bytes, byte for byte"
done
expect_no_leftovers "after the 2048- and 2049-byte scripts"
finish
