"""gkexec._call.Call, the waiting for a blocking library call, with a fake
library and no cluster: an interrupt cancels and waits for the cleanup; a
second one stops the wait, names what is left, and the process still waits
for the cleanup at exit; the session is freed once, after the call, by the
call's own thread. In a child /usr/bin/python3 with its default SIGINT
handler, as a user's process would be."""
import os
import signal
import subprocess
import time

PYTHON = "/usr/bin/python3"

CHILD = r'''
import sys, threading, time
from gkexec import _call

CLEANUP = float(sys.argv[1])


class FakeLib:
    """The session calls a Call makes; the call itself is `execute` below."""
    def __init__(self):
        self.cancelled = threading.Event()
        self.running = False
        self.frees = 0

    def gkx_session_cancel(self, session):
        assert self.frees == 0, "cancel after free"
        self.cancelled.set()

    def gkx_session_free(self, session):
        assert not self.running, "the session was freed under the running call"
        self.frees += 1
        print("freed", self.frees, flush=True)


lib = FakeLib()


def execute(lib, session):
    lib.running = True
    call.on_phase(0, 1, "sandbox-run-abc", "ns1", "")
    call.on_phase(0, 4, "sandbox-run-abc", "ns1", "sandbox-run-abc-x")
    call.on_phase(1, 4, "sandbox-run-def", "ns1", "sandbox-run-def-y")
    call.on_phase(1, 7, "sandbox-run-def", "ns1", "sandbox-run-def-y")
    print("running", flush=True)
    lib.cancelled.wait()
    print("cleaning", flush=True)
    time.sleep(CLEANUP)
    call.on_phase(0, 7, "sandbox-run-abc", "ns1", "sandbox-run-abc-x")
    lib.running = False
    return "value"


call = _call.Call(lib, "session", execute)
try:
    call.result()
    print("returned", flush=True)
except KeyboardInterrupt:
    print("interrupted", lib.frees, flush=True)
print("exiting", flush=True)
'''


def child(tmp_path, cleanup):
    path = tmp_path / "child.py"
    path.write_text(CHILD)
    return subprocess.Popen([PYTHON, "-X", "faulthandler", str(path), str(cleanup)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def wait_for(proc, text):
    lines = []
    for line in iter(proc.stdout.readline, ""):
        lines.append(line.strip())
        if line.startswith(text):
            return lines
    raise AssertionError(f"no {text!r} in {lines}")


def rest(proc):
    """What the child prints until it exits (read through the same buffer)."""
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait(10)
    return out, err


def test_interrupt_cancels_and_waits_for_the_cleanup(tmp_path):
    proc = child(tmp_path, 1.0)
    wait_for(proc, "running")
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    seen = wait_for(proc, "interrupted")
    waited = time.monotonic() - t0
    out, err = rest(proc)
    assert proc.returncode == 0, err
    # KeyboardInterrupt only once the cleanup was over and the session freed.
    assert seen == ["cleaning", "freed 1", "interrupted 1"], (seen, err)
    assert 0.9 < waited < 3, waited
    assert out.split("\n")[:1] == ["exiting"] and "freed" not in out, out
    assert "Warning" not in err and "Traceback" not in err, err


def test_second_interrupt_names_what_is_left_and_exit_waits(tmp_path):
    proc = child(tmp_path, 3.0)
    wait_for(proc, "running")
    proc.send_signal(signal.SIGINT)
    wait_for(proc, "cleaning")
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    seen = wait_for(proc, "interrupted")
    raised = time.monotonic() - t0
    out, err = rest(proc)
    assert proc.returncode == 0, err
    assert raised < 1, raised
    assert seen == ["interrupted 0"], seen  # the session not freed yet
    # The cleanup went on, and the process waited for it before exiting.
    assert out.split() == ["exiting", "freed", "1"], out
    assert "LeftInClusterWarning" in err, err
    assert "Job sandbox-run-abc (pod sandbox-run-abc-x) in namespace ns1" in err, err
    assert "kubectl delete job sandbox-run-abc -n ns1" in err, err
    assert "sandbox-run-def" not in err, err  # that run had ended
    assert "Traceback" not in err, err


def test_call_returns_and_frees_once(tmp_path):
    path = tmp_path / "child.py"
    path.write_text(CHILD.replace("lib.cancelled.wait()", "pass"))
    proc = subprocess.run([PYTHON, str(path), "0"], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[-4:] == ["freed 1", "returned", "exiting", ""], proc.stdout
