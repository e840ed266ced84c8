# An example for `kubectl sandbox-run`: what the sandbox looks like inside.
import os
import platform
import sys

print(f"Hello from a sandbox: Python {platform.python_version()} as uid {os.getuid()}")
# gVisor answers for the kernel: it reports Linux 4.4.0, whatever the node runs.
kernel = platform.release()
print(f"kernel {kernel}" + (" (gVisor)" if kernel == "4.4.0" else " (the node's own: no gVisor)"))
try:
    # /var/tmp is writable by anyone, so only a read-only root stops this.
    open("/var/tmp/sandbox-test", "w")
except OSError as e:
    print(f"the root filesystem is read-only ({e.strerror})")
print("this line goes to stderr, in order", file=sys.stderr)
sys.exit(0)
