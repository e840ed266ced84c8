#!/usr/bin/env bash
# What the script sees from inside: not root, no capabilities, no new
# privileges, a read-only root, no service-account token, a writable /tmp,
# its code read-only (mode 0444; /app itself is writable when the code
# came over the exec, read-only when a Job runs it from its ConfigMap, so
# that is not asserted). Each property is checked in a way that holds under
# gVisor as under runc and fails when the property is missing:
# - no_new_privs through prctl (setpriv -d), since gVisor's
#   /proc/self/status has no NoNewPrivs line;
# - the read-only root through a world-writable directory on it (/var/tmp)
#   and statvfs: writing to / itself fails for uid 1001 on any root
#   (gVisor says EACCES there, runc EROFS), so it proves nothing.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/probe.py" <<'PY'
import os, subprocess
print("uid", os.getuid(), os.getgid())
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")]
print("capeff", caps[0])
nnp = [l.split(":")[1].strip() for l in subprocess.run(["setpriv", "-d"], capture_output=True,
       text=True).stdout.splitlines() if l.startswith("no_new_privs")]
print("no_new_privs", nnp[0] if nnp else "unknown")
print("root read-only", bool(os.statvfs("/").f_flag & os.ST_RDONLY))
print("var/tmp", oct(os.stat("/var/tmp").st_mode & 0o7777))
try:
    open("/var/tmp/probe", "w")
    print("wrote /var/tmp/probe")
except OSError as e:
    print("cannot write /var/tmp/probe", e.errno)
try:
    open(__file__, "a")
    print("wrote", __file__)
except OSError as e:
    print("cannot write", __file__)
open("/tmp/scratch", "w").write("ok")
print("tmp", open("/tmp/scratch").read())
print("token", os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token"))
print("mode", oct(os.stat("/app/probe.py").st_mode & 0o777))
PY
sr "$WORK/probe.py"
expect_rc 0 "probe"
expect_out "uid 1001 1001
capeff 0000000000000000
no_new_privs 1
root read-only True
var/tmp 0o1777
cannot write /var/tmp/probe 30
cannot write /app/probe.py
tmp ok
token False
mode 0o444
" "hardening seen from inside the pod"
expect_no_leftovers "after probe"
finish
