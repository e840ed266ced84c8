#!/usr/bin/env bash
# What a result holds. Output that is not UTF-8 (the 256 byte values, a
# newline and "after\n") comes back whole from -o json on every path: the
# default one (a Job, the code by exec), --cold, --keep (the Job runs the
# script itself; its log is read) and warm (a parked sandbox), with the
# text in "output" and every byte in "outputBase64". A flood keeps the
# last 1 MiB of it, or the last --limit-bytes, and says outputTruncated.
. "$(dirname "$0")/lib.sh"

pool() { "$PLUGIN" -n "$NS" --image "$IMAGE" pool "$@"; }

printf 'import sys\nsys.stdout.buffer.write(bytes(range(256)) + b"\\nafter\\n")\n' >"$WORK/bytes.py"
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) + b"\nafter\n")' >"$WORK/want"

# check_bytes NAME FIELD: the -o json in $WORK/out has FIELD's bytes (its
# base64) equal to $WORK/want, and FIELD's text is their decoding with
# U+FFFD for what is not UTF-8 (a NUL too: cJSON strings cannot hold one).
check_bytes() {
    if python3 - "$WORK/out" "$WORK/want" "$2" <<'PY'; then pass "$1: all 263 bytes in $2Base64, the text in $2"; else
import base64, json, sys
d = json.load(open(sys.argv[1]))
want = open(sys.argv[2], "rb").read()
field = sys.argv[3]
got = base64.b64decode(d[field + "Base64"])
assert got == want, (len(got), got[:40])
assert d[field] == want.decode("utf-8", "replace").replace("\0", "\ufffd"), d[field][:40]
assert d["ok"] is True and d["exitCode"] == 0 and d["outputTruncated"] is False, d
PY
        fail "$1: $(head -c 600 "$WORK/out")"
    fi
}

pool delete -q >/dev/null 2>&1

sr "$WORK/bytes.py"
expect_rc 0 "streamed"
if cmp -s "$WORK/out" "$WORK/want"; then pass "streamed: all 263 bytes"; else
    fail "streamed: $(wc -c <"$WORK/out") bytes"; fi

sr -o json "$WORK/bytes.py"
expect_rc 0 "-o json, default path"
check_bytes "-o json, default path" output
expect_no_leftovers "-o json, default path"

sr -o json --cold "$WORK/bytes.py"
expect_rc 0 "-o json --cold"
check_bytes "-o json --cold" output
expect_no_leftovers "-o json --cold"

sr -o json --keep "$WORK/bytes.py"
expect_rc 0 "-o json --keep"
check_bytes "-o json --keep" output
"$K" -n "$NS" delete jobs,configmaps -l "$SELECTOR" >/dev/null
expect_no_leftovers "-o json --keep, after deleting what it kept"

pool create --size 1 >"$WORK/pool.out" 2>&1
sr -o json "$WORK/bytes.py"
expect_rc 0 "-o json, warm"
if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["warm"] else 1)' "$WORK/out"; then
    pass "-o json, warm: a parked sandbox ran it"; else fail "-o json, warm: not warm ($(cat "$WORK/pool.out"))"; fi
check_bytes "-o json, warm" output
check_bytes "-o json, warm" stdout
pool delete -q >/dev/null 2>&1
# The replacement the run started may be deleted before its container
# started: the 1.20 kubelet keeps such a pod Terminating for about a minute.
expect_no_leftovers "-o json, warm" 120

# A flood of 3 MB: the result keeps its last 1 MiB, or --limit-bytes.
printf 'import sys\nfor i in range(3000):\n    sys.stdout.write("%%04d" %% i + "x" * 995 + "\\n")\nprint("the end")\n' >"$WORK/flood.py"
sr -o json "$WORK/flood.py"
expect_rc 0 "-o json, a 3 MB flood"
if python3 - "$WORK/out" <<'PY'; then pass "-o json: the last 1 MiB of a flood, outputTruncated"; else
import json, sys
d = json.load(open(sys.argv[1]))
assert d["outputTruncated"] is True, d["outputTruncated"]
assert len(d["output"]) == 1048576 and d["output"].endswith("2999" + "x" * 995 + "\nthe end\n"), len(d["output"])
assert d["outputBase64"] is None
PY
    fail "-o json flood: $(head -c 300 "$WORK/out")"; fi
expect_err_contains "the result keeps its last 1048576 bytes" "-o json, a 3 MB flood"

sr -o json --limit-bytes 20 "$WORK/flood.py"
expect_rc 0 "-o json --limit-bytes 20"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if (d["output"], d["outputTruncated"]) == ("xxxxxxxxxxx\nthe end\n", True) else 1)' "$WORK/out"; then
    pass "-o json --limit-bytes 20: the last 20 bytes"; else fail "-o json --limit-bytes 20: $(head -c 300 "$WORK/out")"; fi
expect_no_leftovers "the floods"

finish
