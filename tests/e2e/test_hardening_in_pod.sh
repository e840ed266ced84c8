#!/usr/bin/env bash
# What the script sees from inside: not root, no capabilities, a read-only
# root, no service-account token, a writable /tmp, its code read-only.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/probe.py" <<'PY'
import os
print("uid", os.getuid(), os.getgid())
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")]
print("capeff", caps[0])
for path in ("/probe", "/app/new"):
    try:
        open(path, "w")
        print("wrote", path)
    except OSError as e:
        print("cannot write", path, e.errno)
open("/tmp/scratch", "w").write("ok")
print("tmp", open("/tmp/scratch").read())
print("token", os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token"))
print("mode", oct(os.stat("/app/probe.py").st_mode & 0o777))
print("nnp", [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0])
PY
sr "$WORK/probe.py"
expect_rc 0 "probe"
expect_out "uid 1001 1001
capeff 0000000000000000
cannot write /probe 30
cannot write /app/new 30
tmp ok
token False
mode 0o444
nnp 1
" "hardening seen from inside the pod"
expect_no_leftovers "after probe"
finish
