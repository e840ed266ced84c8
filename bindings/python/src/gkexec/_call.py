"""A blocking library call that Ctrl-C can stop safely (see Call)."""
import atexit
import threading
import warnings

# The library's phase of a run that has ended and deleted what it made
# (GKX_PHASE_ENDED in gkexec/run.h).
PHASE_ENDED = 7


class LeftInClusterWarning(RuntimeWarning):
    """The process stopped waiting for a run's cleanup (a second Ctrl-C):
    the message names the Job and pod still in the cluster."""


_abandoned = set()  # calls a second interrupt stopped waiting for


class Call:
    """One blocking call of libgkexec on a session, made on a thread of its
    own so that the main thread can take Ctrl-C.

    The thread owns the session (and, through `fn`, the ctypes callbacks):
    it frees the session after the call returned, and nothing else frees it,
    so no interrupt can free what the call still uses. Completion is a flag
    of our own, not Thread.join() or is_alive(): on Python 3.11 a
    KeyboardInterrupt that lands in Thread.join() can mark a thread that
    still runs as stopped (CPython issue 90882). That is how the session
    used to be freed under a running gkx_session_run(), and the process
    died of a segfault with the sandbox still running.

    result(): the value of fn(lib, session) from the thread. On an
    interrupt it cancels the call (the library deletes what the runs made),
    waits for that cleanup, then raises KeyboardInterrupt. A second
    interrupt stops the wait: a LeftInClusterWarning names what is still
    there, the cleanup goes on in the background, and the process waits for
    it when it exits (a third interrupt then leaves it)."""

    def __init__(self, lib, session, fn):
        self._lib, self._session, self._fn = lib, session, fn
        self._guard = threading.Lock()  # the session is cancelled or freed under it
        self._wake = threading.Lock()
        self._wake.acquire()
        self.done = False
        self.held = {}  # request index -> (job, namespace, pod), until the run has ended
        self._value = self._error = None
        self._kept = []
        self._began = False  # the thread has taken the session
        self._thread = threading.Thread(target=self._work, name="gkexec-run", daemon=True)

    def _work(self):
        with self._guard:
            self._began = self._session is not None
        try:
            if self._began:  # else an interrupt came first: the call is not made
                self._value = self._fn(self._lib, self._session)
        except BaseException as e:  # handed to the caller
            self._error = e
        finally:
            with self._guard:
                if self._session is not None:
                    self._lib.gkx_session_free(self._session)
                self._session = None
            self.done = True
            self._wake.release()

    def keep(self, *objects):
        """Keep what the library calls back (ctypes functions) as long as the
        thread that may still call them."""
        self._kept.extend(objects)

    def on_phase(self, index, phase, job, namespace, pod):
        """From the library's thread: what run `index` holds in the cluster."""
        if phase == PHASE_ENDED:
            self.held.pop(index, None)
        elif job:
            self.held[index] = (job, namespace, pod)

    def cancel(self):
        """Cancel the call; one whose thread has not taken the session yet
        (an interrupt inside Thread.start()) is never made."""
        with self._guard:
            if self._session is None:
                return
            if self._began:
                self._lib.gkx_session_cancel(self._session)
                return
            self._lib.gkx_session_free(self._session)
            self._session = None
            self.done = True

    def _join(self):
        # A wake-up that an interrupt cut short leaves the lock taken; the
        # flag, set before the release, still says the call is over.
        while not self.done:
            self._wake.acquire(timeout=0.5)

    def result(self):
        try:
            self._thread.start()
            self._join()
        except KeyboardInterrupt:
            self._interrupted()
            raise
        if self._error is not None:
            raise self._error
        return self._value

    def _interrupted(self):
        try:
            self.cancel()
            self._join()
        except KeyboardInterrupt:
            self.cancel()  # in case the first interrupt came before it
            if not self.done:
                _abandoned.add(self)
                warnings.warn(self.left("stopped waiting for the cleanup (a second interrupt)",
                                        "it goes on in the background, and this process waits "
                                        "for it before it exits"),
                              LeftInClusterWarning, stacklevel=5)  # run()'s caller
            raise

    def left(self, what, then):
        held = dict(self.held)
        if held:
            names = "; ".join(f"Job {job}" + (f" (pod {pod})" if pod else "") + f" in namespace {ns}"
                              for job, ns, pod in held.values())
            fix = "to delete them now: " + "; ".join(f"`kubectl delete job {job} -n {ns}`"
                                                     for job, ns, _pod in held.values())
        else:
            names = "the runs' Jobs and pods"
            fix = "to list them: `kubectl get jobs -l app.kubernetes.io/managed-by=kubectl-sandbox-run`"
        return (f"gkexec: {what}: still in the cluster: {names}; {then}. If the process is killed "
                f"first, they stay until the run's deadline ends them; {fix}")

    def finish_at_exit(self):
        if self.done:
            return
        try:
            self._join()
        except KeyboardInterrupt:
            warnings.warn(self.left("exiting without the cleanup", "they were not deleted"),
                          LeftInClusterWarning, stacklevel=2)


@atexit.register
def _finish_abandoned():
    # Runs before the interpreter stops its daemon threads, so the cleanup
    # a second interrupt stopped waiting for still ends, or is named.
    for call in list(_abandoned):
        call.finish_at_exit()
