"""Run untrusted code in a hardened, throw-away Kubernetes Job.

    >>> import gkexec
    >>> r = gkexec.run("print(6 * 7)")
    >>> r.ok, r.exit_code, r.output
    (True, 0, '42\\n')

Every run creates a Job and a ConfigMap in your current kubectl context and
deletes them when it ends; see the project's README for what the sandbox is.
"""
import ctypes
import json
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from . import _lib

__all__ = ["run", "run_many", "Result", "GkexecError", "ConfigError", "ClusterError",
           "library_version"]

_lib_handle = None


def _library():
    global _lib_handle
    if _lib_handle is None:
        _lib_handle = _lib.load()
    return _lib_handle


def library_version() -> str:
    """The version of the libgkexec that was loaded."""
    return _library().gkx_version().decode()


class GkexecError(Exception):
    """A run could not happen or could not finish. `code` is the library's
    short name for the failure ("config", "forbidden", "start", ...)."""

    def __init__(self, message: str, code: str = "", result: "Optional[Result]" = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.result = result


class ConfigError(GkexecError):
    """The kubeconfig or the request is unusable (nothing was sent)."""


class ClusterError(GkexecError):
    """The cluster refused or failed: RBAC, an image that cannot be pulled,
    a pod that cannot be scheduled, a connection that broke."""


_CONFIG_CODES = {"config", "invalid", "too-big", "io"}


@dataclass
class Result:
    """What one run produced. `ok` means the script ran and exited 0."""
    ok: bool
    exit_code: Optional[int]
    reason: str
    output: str
    output_truncated: bool = False
    name: str = ""
    namespace: str = ""
    error: Optional[str] = None
    error_code: Optional[str] = None
    timings: Dict[str, Optional[float]] = field(default_factory=dict)
    api_requests: int = 0

    @classmethod
    def _from_json(cls, d):
        return cls(ok=d["ok"], exit_code=d["exitCode"], reason=d["reason"], output=d["output"],
                   output_truncated=d.get("outputTruncated", False), name=d.get("name", ""),
                   namespace=d.get("namespace", ""), error=d.get("error"), error_code=d.get("errorCode"),
                   timings=d.get("timings", {}), api_requests=d.get("apiRequests", 0))

    def raise_for_error(self):
        """Raise ConfigError or ClusterError if the run itself failed (not
        the script: a non-zero exit is a result, not an error)."""
        if self.error_code:
            kind = ConfigError if self.error_code in _CONFIG_CODES else ClusterError
            raise kind(self.error or self.error_code, self.error_code, self)
        return self


def _request(code, files, image, timeout, cpu, memory, env, filename, args, limit_bytes, network):
    req = {"code": code, "filename": filename or "main.py"}
    if files:
        req["files"] = dict(files)
    for key, value in (("image", image), ("cpu", cpu), ("memory", memory), ("network", network)):
        if value:
            req[key] = value
    if timeout:
        req["timeout"] = float(timeout)
    if env:
        req["env"] = {str(k): str(v) for k, v in env.items()}
    if args:
        req["args"] = [str(a) for a in args]
    if limit_bytes:
        req["limitBytes"] = int(limit_bytes)
    return req


def _execute(requests: List[dict], parallel: int, namespace, context, kubeconfig,
             on_output: Optional[Callable[[int, str], None]]) -> List[Result]:
    lib = _library()
    config = {k: v for k, v in (("namespace", namespace), ("context", context),
                                ("kubeconfig", kubeconfig)) if v}
    err = _lib.Error()
    session = ctypes.c_void_p()
    rc = lib.gkx_session_new_from_env(ctypes.byref(session), json.dumps(config).encode(), ctypes.byref(err))
    if rc < 0:
        raise ConfigError(err.message.decode(errors="replace"), "config")

    def deliver(index, data, length, _ud):
        if on_output:
            on_output(index, ctypes.string_at(data, length).decode(errors="replace"))

    callback = _lib.OUTPUT_CB(deliver)
    outcome = {}

    def work():
        e = _lib.Error()
        outcome["rc"] = lib.gkx_session_run(session, json.dumps(requests).encode(), max(1, int(parallel)),
                                            callback, None, ctypes.byref(e))
        outcome["error"] = e.message.decode(errors="replace")

    # The C call blocks; running it in a thread keeps the main thread free
    # to take Ctrl-C, which then cancels the runs (they clean up first).
    worker = threading.Thread(target=work, name="gkexec-run", daemon=True)
    try:
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
        except KeyboardInterrupt:
            lib.gkx_session_cancel(session)
            worker.join()
            raise
        rc = outcome.get("rc", 0)
        # A canceled batch still has a result for every request.
        if rc < 0 and lib.gkx_error_name(rc) != b"canceled":
            raise ConfigError(outcome["error"], lib.gkx_error_name(rc).decode())
        return [Result._from_json(d) for d in json.loads(lib.gkx_session_results(session).decode())]
    finally:
        if not worker.is_alive():
            lib.gkx_session_free(session)


def run(code: str, *, files: Optional[Dict[str, str]] = None, image: Optional[str] = None,
        timeout: Optional[float] = None, cpu: Optional[str] = None, memory: Optional[str] = None,
        env: Optional[Dict[str, str]] = None, namespace: Optional[str] = None,
        context: Optional[str] = None, kubeconfig: Optional[str] = None,
        filename: str = "main.py", args: Optional[Sequence[str]] = None,
        limit_bytes: Optional[int] = None, network: Optional[str] = None,
        on_output: Optional[Callable[[str], None]] = None) -> Result:
    """Run `code` in the sandbox and return its Result. A script that fails
    is a Result with ok False; a run that cannot happen raises ConfigError
    or ClusterError carrying the library's message. network="none" also
    creates a deny-all NetworkPolicy for the run's pod (see SECURITY.md)."""
    req = _request(code, files, image, timeout, cpu, memory, env, filename, args, limit_bytes, network)
    cb = (lambda _i, text: on_output(text)) if on_output else None
    return _execute([req], 1, namespace, context, kubeconfig, cb)[0].raise_for_error()


def run_many(codes: Sequence[str], *, parallel: int = 4, files: Optional[Dict[str, str]] = None,
             image: Optional[str] = None, timeout: Optional[float] = None, cpu: Optional[str] = None,
             memory: Optional[str] = None, env: Optional[Dict[str, str]] = None,
             namespace: Optional[str] = None, context: Optional[str] = None,
             kubeconfig: Optional[str] = None, filename: str = "main.py",
             limit_bytes: Optional[int] = None, network: Optional[str] = None) -> List[Result]:
    """Run each snippet, `parallel` at a time, from one thread of the library;
    results come back in input order. A snippet that cannot run gets a
    Result with `error` set instead of raising, so the others are kept."""
    reqs = [_request(c, files, image, timeout, cpu, memory, env, filename, None, limit_bytes, network)
            for c in codes]
    return _execute(reqs, parallel, namespace, context, kubeconfig, None)
