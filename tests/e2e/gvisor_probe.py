# Runs inside a sandbox and reports, one line each, the signs that the
# kernel under it is gVisor's and not the node's Linux:
#   sign NAME yes|no EVIDENCE
# Each sign is independent of the others; none alone is proof.
import errno
import os
import socket
import subprocess


def sign(name, yes, evidence):
    print(f"sign {name} {'yes' if yes else 'no'} {evidence}", flush=True)


# 1. The kernel's version: gVisor reports a fixed Linux 4.4.0 of 2016.
version = open("/proc/version").read().strip()
sign("kernel", os.uname().release == "4.4.0" and "Sun Jan 10 15:06:54 PST 2016" in version, version)

# 2. The kernel log: gVisor's boot lines, readable by any user; Linux's
#    dmesg_restrict and the runtime's seccomp profile keep it from uid 1001.
try:
    r = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10)
    log = r.stdout
except (OSError, subprocess.SubprocessError) as e:
    log = f"dmesg failed: {e}"
first = log.splitlines()[0] if log else "(empty)"
sign("dmesg", "Starting gVisor..." in log, first)

# 3. A syscall Linux serves and gVisor refuses: gVisor implements only the
#    route and uevent netlink families, so a sock_diag socket (which `ss`
#    opens as any user on Linux since 3.3) gets EPROTONOSUPPORT.
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4).close()
    sign("netlink_sock_diag", False, "socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG) succeeded")
except OSError as e:
    sign("netlink_sock_diag", e.errno == errno.EPROTONOSUPPORT,
         f"socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG): {errno.errorcode.get(e.errno)}")

# 4. A /proc entry that differs: Linux has /proc/self/pagemap, gVisor not.
try:
    open("/proc/self/pagemap", "rb").close()
    sign("proc_pagemap", False, "/proc/self/pagemap exists")
except OSError as e:
    sign("proc_pagemap", e.errno == errno.ENOENT, f"/proc/self/pagemap: {errno.errorcode.get(e.errno)}")
