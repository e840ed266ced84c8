# An example for `kubectl sandbox-run`: what the sandbox looks like inside.
import os
import platform
import sys

print(f"Hello from a sandbox: Python {platform.python_version()} as uid {os.getuid()}")
try:
    open("/etc/sandbox-test", "w")
except OSError as e:
    print(f"the root filesystem is read-only ({e.strerror})")
print("this line goes to stderr, in order", file=sys.stderr)
sys.exit(0)
