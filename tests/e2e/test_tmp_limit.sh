#!/usr/bin/env bash
# A script that fills /tmp is stopped at the limit, on every path, and the
# user is told why: the write fails with ENOSPC at 64 MiB (a tmpfs the
# kubelet sized), or, where the kubelet does not size it (before
# SizeMemoryBackedVolumes), the run ends Evicted with the kubelet's words
# about the volume or ephemeral storage. Never 400 MiB written and a
# normal end. Nothing is left behind.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/fill.py" <<'PY'
import errno, os, sys, time
chunk, n, t0 = os.urandom(1 << 20), 0, time.time()
try:
    with open("/tmp/fill", "wb") as f:
        while n < 400:
            f.write(chunk)
            n += 1
except OSError as e:
    print("stopped after %d MiB in %.1f s: %s" % (n, time.time() - t0, errno.errorcode.get(e.errno)),
          flush=True)
    sys.exit(28)
print("wrote %d MiB in %.1f s" % (n, time.time() - t0), flush=True)
# Time for an eviction to come, where that is what enforces the limit.
time.sleep(100)
PY

json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d[sys.argv[2]]; print("" if v is None else v)' "$WORK/out" "$1"; }

# stopped NAME: the run's -o json in $WORK/out says the limit held.
stopped() {
    local reason code output message
    reason=$(json reason) code=$(json exitCode) output=$(json output) message=$(json message)
    echo "  $1: reason=$reason exitCode=$code output=$(printf '%s' "$output" | tr '\n' ' ') message=$message (${secs} s)"
    if [ "$reason" = Error ] && [ "$code" = 28 ] && [[ $output == *ENOSPC* ]]; then
        local mib=${output#stopped after }; mib=${mib%% *}
        if [ "$mib" -le 64 ]; then pass "$1: the write failed with ENOSPC after $mib MiB"
        else fail "$1: ENOSPC only after $mib MiB"; fi
    elif [ "$reason" = Evicted ] && [[ $message == *'"tmp"'* || $message == *ephemeral* ]]; then
        pass "$1: Evicted: $message"
    else
        fail "$1: not stopped at the limit"; cat "$WORK/err"
    fi
}

"$PLUGIN" -n "$NS" pool delete --all -q >/dev/null 2>&1
sr -o json --timeout 150s "$WORK/fill.py"
stopped "default path"
expect_no_leftovers "default path" 60

sr -o json --cold --timeout 150s "$WORK/fill.py"
stopped "--cold"
expect_no_leftovers "--cold" 60

# The Job's container runs the script itself: the pod watch tells.
sr -o json --keep --timeout 150s "$WORK/fill.py"
stopped "--keep"
"$K" -n "$NS" delete jobs,configmaps -l "$SELECTOR" --wait=false >/dev/null 2>&1
expect_no_leftovers "--keep, once deleted" 60

# Warm: a parked pod's /tmp is the same tmpfs.
"$PLUGIN" -n "$NS" --image "$IMAGE" pool create --size 1 >/dev/null 2>&1
sr -o json --timeout 150s "$WORK/fill.py"
[ "$(json warm)" = True ] && pass "warm: a parked pod was used" || fail "warm: the run was not warm"
stopped "warm"
"$PLUGIN" -n "$NS" pool delete --all -q >/dev/null 2>&1
expect_no_leftovers "warm, after pool delete" 120
finish
