"""Run untrusted code in a hardened, throw-away Kubernetes Job.

    >>> import gkexec
    >>> r = gkexec.run("print(6 * 7)")
    >>> r.ok, r.exit_code, r.output
    (True, 0, '42\\n')

Every run creates a Job and a ConfigMap in your current kubectl context and
deletes them when it ends; see the project's README for what the sandbox is.
"""
import atexit
import base64
import ctypes
import json
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence

from . import _call, _lib

__all__ = ["run", "run_many", "Pool", "PoolStatus", "Result", "GkexecError", "ConfigError",
           "ClusterError", "LeftInClusterWarning", "library_version", "library_path"]

_lib_handle = None


def _library():
    global _lib_handle
    if _lib_handle is None:
        _lib_handle = _lib.load()
    return _lib_handle


def library_version() -> str:
    """The version of the libgkexec that was loaded."""
    return _library().gkx_version().decode()


def library_path() -> str:
    """Which libgkexec was loaded: GKEXEC_LIBRARY, the one inside this
    package (a wheel carries it), or the system's."""
    return _library().gkexec_path


class GkexecError(Exception):
    """A run could not happen or could not finish. `code` is the library's
    short name for the failure ("config", "forbidden", "start", ...)."""

    def __init__(self, message: str, code: str = "", result: "Optional[Result]" = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.result = result


class ConfigError(GkexecError):
    """The kubeconfig or the request is unusable, and nothing was sent: fix
    the argument the message names, or the kubeconfig (`kubectl config
    current-context` shows which cluster kubectl would use)."""


class ClusterError(GkexecError):
    """The cluster refused or failed: RBAC (ask for the right the message
    names, e.g. create on jobs), an image that cannot be pulled (check the
    name, or pull it on the node), a pod that cannot be scheduled (a node
    pool with RuntimeClass gvisor, and room for the requests), a connection
    that broke (retry). The message is the API server's own."""


_CONFIG_CODES = {"config", "invalid", "too-big", "io"}

LeftInClusterWarning = _call.LeftInClusterWarning


def _text_and_bytes(d, key):
    """A result's text member and its bytes. Output that was not UTF-8 (or
    held a NUL) comes with its bytes in base64 beside the text; then the
    text is decoded from them, errors="replace", as a Python user expects."""
    text, raw = d.get(key), d.get(key + "Base64")
    if raw is not None:
        data = base64.b64decode(raw)
        return data.decode("utf-8", errors="replace"), data
    if text is None:
        return None, None
    return text, text.encode()


@dataclass
class Result:
    """What one run produced. `ok` means the script ran and exited 0.

    `output` is what the script printed, as text: bytes that are not UTF-8
    are decoded with errors="replace" (U+FFFD), and `output_bytes` has them
    all, as printed. The result keeps the last `limit_bytes` of it (1 MiB
    by default); `output_truncated` says that the start was dropped. A run
    in a parked sandbox (`warm`, see Pool) also has `stdout` and `stderr`
    apart (and `stdout_bytes`, `stderr_bytes`), and `output` is stdout
    followed by stderr; a Job's run has them joined in the order printed,
    and `stdout` and `stderr` are None."""
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
    warm: bool = False
    pod: Optional[str] = None
    stdout: Optional[str] = None
    stderr: Optional[str] = None
    output_bytes: bytes = b""
    stdout_bytes: Optional[bytes] = None
    stderr_bytes: Optional[bytes] = None
    message: Optional[str] = None

    @classmethod
    def _from_json(cls, d):
        output, output_bytes = _text_and_bytes(d, "output")
        stdout, stdout_bytes = _text_and_bytes(d, "stdout")
        stderr, stderr_bytes = _text_and_bytes(d, "stderr")
        return cls(ok=d["ok"], exit_code=d["exitCode"], reason=d["reason"], output=output or "",
                   output_truncated=d.get("outputTruncated", False), name=d.get("name", ""),
                   namespace=d.get("namespace", ""), error=d.get("error"), error_code=d.get("errorCode"),
                   timings=d.get("timings", {}), api_requests=d.get("apiRequests", 0),
                   warm=d.get("warm", False), pod=d.get("pod"), stdout=stdout, stderr=stderr,
                   output_bytes=output_bytes or b"", stdout_bytes=stdout_bytes, stderr_bytes=stderr_bytes,
                   message=d.get("message"))

    def raise_for_error(self):
        """Raise ConfigError or ClusterError if the run itself failed (not
        the script: a non-zero exit is a result, not an error)."""
        if self.error_code:
            kind = ConfigError if self.error_code in _CONFIG_CODES else ClusterError
            raise kind(self.error or self.error_code, self.error_code, self)
        return self


def _request(code, files, image, timeout, cpu, memory, env, filename, args, limit_bytes, network,
             cold=False):
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
    if cold:
        req["cold"] = True
    return req


def _session(namespace, context, kubeconfig):
    lib = _library()
    config = {k: v for k, v in (("namespace", namespace), ("context", context),
                                ("kubeconfig", kubeconfig)) if v}
    err = _lib.Error()
    session = ctypes.c_void_p()
    rc = lib.gkx_session_new_from_env(ctypes.byref(session), json.dumps(config).encode(), ctypes.byref(err))
    if rc < 0:
        raise ConfigError(err.message.decode(errors="replace") +
                          " (check your kubeconfig: `kubectl config current-context` should name "
                          "the cluster to use, or pass kubeconfig= and context=)", "config")
    return lib, session


def _execute(requests: List[dict], parallel: int, namespace, context, kubeconfig,
             on_output: Optional[Callable[[int, str], None]]) -> List[Result]:
    def deliver(index, data, length, _ud):
        if on_output:
            on_output(index, ctypes.string_at(data, length).decode(errors="replace"))

    def held(index, phase, job, ns, pod, _ud):
        call.on_phase(index, phase, (job or b"").decode(), (ns or b"").decode(), (pod or b"").decode())

    def execute(lib, session):
        # On the call's own thread, which owns the session (see _call.Call).
        if _lib.has_phases(lib):  # what each run holds, named if a second Ctrl-C leaves it
            lib.gkx_session_on_phase(session, phases, None)
        e = _lib.Error()
        rc = lib.gkx_session_run(session, payload, max(1, int(parallel)), callback, None, ctypes.byref(e))
        return rc, e.message.decode(errors="replace"), lib.gkx_session_results(session).decode()

    payload = json.dumps(requests).encode()
    callback, phases = _lib.OUTPUT_CB(deliver), _lib.PHASE_CB(held)
    lib, session = _session(namespace, context, kubeconfig)
    call = _call.Call(lib, session, execute)
    call.keep(callback, phases)
    # The C call blocks on a thread of its own, which keeps this one free to
    # take Ctrl-C; that cancels the runs, which clean up first.
    rc, message, results = call.result()
    # A canceled batch still has a result for every request.
    if rc < 0 and lib.gkx_error_name(rc) != b"canceled":
        raise ConfigError(message, lib.gkx_error_name(rc).decode())
    return [Result._from_json(d) for d in json.loads(results)]


def _from_pool(pool, image, cpu, memory, network, namespace, context, kubeconfig):
    """A run through a pool takes the pool's shape and cluster, and keeps it warm."""
    if pool is None:
        return image, cpu, memory, network, namespace, context, kubeconfig
    image, cpu, memory, network = pool._shape(image, cpu, memory, network)
    pool._keep_warm()
    return (image, cpu, memory, network, namespace or pool.namespace, context or pool.context,
            kubeconfig or pool.kubeconfig)


def run(code: str, *, files: Optional[Dict[str, str]] = None, image: Optional[str] = None,
        timeout: Optional[float] = None, cpu: Optional[str] = None, memory: Optional[str] = None,
        env: Optional[Dict[str, str]] = None, namespace: Optional[str] = None,
        context: Optional[str] = None, kubeconfig: Optional[str] = None,
        filename: str = "main.py", args: Optional[Sequence[str]] = None,
        limit_bytes: Optional[int] = None, network: Optional[str] = None,
        on_output: Optional[Callable[[str], None]] = None, cold: bool = False,
        pool: "Optional[Pool]" = None) -> Result:
    """Run `code` in a sandbox of the current kubectl context and return its Result.

    The sandbox is a pod under gVisor with no root, no capabilities, a
    read-only root filesystem, no service-account token and a deadline of
    `timeout` seconds (default 300); it is deleted when the run ends.

    code, filename: the script and its name in /app (the extension picks the
        interpreter: .py, .sh, .bash, .js, .rb, .pl).
    files: more files for /app, {name: text}. args, env: for the script.
    image, cpu, memory, network ("none": a deny-all NetworkPolicy): the
        sandbox's shape. A parked sandbox of the same shape (see Pool) is
        used when one waits, unless cold=True; `pool` takes its shape.
    limit_bytes: the result keeps the last this many bytes of output
        (default 1 MiB; output_truncated says when more was printed);
        on_output still gets all of it.
    on_output: called with each piece of output as it arrives.
    namespace, context, kubeconfig: as kubectl's flags.

    A script that fails is a Result with ok False (see exit_code, reason).
    A run that cannot happen raises ConfigError (bad arguments or
    kubeconfig; nothing was sent) or ClusterError (the cluster refused or
    could not start the pod), with the library's message."""
    image, cpu, memory, network, namespace, context, kubeconfig = _from_pool(
        pool, image, cpu, memory, network, namespace, context, kubeconfig)
    req = _request(code, files, image, timeout, cpu, memory, env, filename, args, limit_bytes, network,
                   cold)
    cb = (lambda _i, text: on_output(text)) if on_output else None
    return _execute([req], 1, namespace, context, kubeconfig, cb)[0].raise_for_error()


def run_many(codes: Sequence[str], *, parallel: int = 4, files: Optional[Dict[str, str]] = None,
             image: Optional[str] = None, timeout: Optional[float] = None, cpu: Optional[str] = None,
             memory: Optional[str] = None, env: Optional[Dict[str, str]] = None,
             namespace: Optional[str] = None, context: Optional[str] = None,
             kubeconfig: Optional[str] = None, filename: str = "main.py",
             limit_bytes: Optional[int] = None, network: Optional[str] = None,
             cold: bool = False, pool: "Optional[Pool]" = None) -> List[Result]:
    """Run each snippet, `parallel` at a time, from one thread of the library
    over one connection; results come back in input order. A snippet that
    cannot run gets a Result with `error` set instead of raising, so the
    others are kept. The arguments are run()'s."""
    image, cpu, memory, network, namespace, context, kubeconfig = _from_pool(
        pool, image, cpu, memory, network, namespace, context, kubeconfig)
    reqs = [_request(c, files, image, timeout, cpu, memory, env, filename, None, limit_bytes, network,
                     cold) for c in codes]
    return _execute(reqs, parallel, namespace, context, kubeconfig, None)


@dataclass
class PoolStatus:
    """What a pool holds: parked sandboxes wait for runs, starting ones will,
    claimed ones serve a run now, ended ones are expired or used and going."""
    pool: str
    namespace: str
    parked: int = 0
    starting: int = 0
    claimed: int = 0
    ended: int = 0


class Pool:
    """Sandboxes parked ahead of time, so that runs of the same shape start
    in a fraction of a second (a run claims one, execs the code in, and
    deletes it; each parked pod serves one run, ever, and a replacement is
    started for it).

        with gkexec.Pool(size=3, memory="256Mi") as pool:
            r = pool.run("print(1)")          # r.warm, r.stdout, r.stderr

    In a notebook, `pool = gkexec.Pool(3).open()` keeps it for the kernel's
    life: it is deleted when the kernel exits (or on pool.close()). Parked
    pods nobody uses expire by themselves after `ttl` seconds, so a pool
    forgotten anyway costs nothing for long. A run takes a parked pod only
    with life left for its whole timeout and 30 s more (default timeout
    300 s: keep ttl above 330). The runner needs list, get and patch on pods and
    create (get before Kubernetes 1.35) on pods/exec."""

    def __init__(self, size: int = 2, *, ttl: float = 900, image: Optional[str] = None,
                 cpu: Optional[str] = None, memory: Optional[str] = None,
                 network: Optional[str] = None, namespace: Optional[str] = None,
                 context: Optional[str] = None, kubeconfig: Optional[str] = None,
                 wait: float = 120):
        self.size, self.ttl, self.wait = int(size), float(ttl), float(wait)
        self.image, self.cpu, self.memory, self.network = image, cpu, memory, network
        self.namespace, self.context, self.kubeconfig = namespace, context, kubeconfig
        self._opened = False
        self._last_fill = 0.0

    def _shape(self, image, cpu, memory, network):
        return image or self.image, cpu or self.cpu, memory or self.memory, network or self.network

    def _call(self, action: str, **extra) -> dict:
        lib, session = _session(self.namespace, self.context, self.kubeconfig)
        try:
            req = {"action": action, "size": self.size, "ttl": self.ttl}
            for key in ("image", "cpu", "memory", "network", "namespace"):
                if getattr(self, key):
                    req[key] = getattr(self, key)
            req.update(extra)
            err = _lib.Error()
            rc = lib.gkx_session_pool(session, json.dumps(req).encode(), ctypes.byref(err))
            if rc < 0:
                name = lib.gkx_error_name(rc).decode()
                kind = ConfigError if name in _CONFIG_CODES else ClusterError
                raise kind(err.message.decode(errors="replace"), name)
            return json.loads(lib.gkx_session_results(session).decode())
        finally:
            lib.gkx_session_free(session)

    def status(self) -> PoolStatus:
        """Count the pool's sandboxes."""
        d = self._call("status")
        return PoolStatus(d["pool"], d["namespace"], d["parked"], d["starting"], d["claimed"], d["ended"])

    def fill(self, wait: Optional[float] = None) -> PoolStatus:
        """Top the pool up to `size`, then wait up to `wait` seconds (the
        pool's own by default; 0: not at all) until they are parked."""
        d = self._call("fill")
        self._last_fill = time.monotonic()
        st = PoolStatus(d["pool"], d["namespace"], d["parked"], d["starting"], d["claimed"], d["ended"])
        end = time.monotonic() + (self.wait if wait is None else wait)
        while st.parked < self.size and time.monotonic() < end:
            time.sleep(0.5)
            st = self.status()
        return st

    def delete(self) -> int:
        """Delete the pool's sandboxes; returns how many."""
        return int(self._call("delete")["deleted"])

    def open(self) -> "Pool":
        """Fill the pool and keep it until close() or the end of the process."""
        if not self._opened:
            self.fill()
            atexit.register(self.close)
            self._opened = True
        return self

    def close(self) -> None:
        """Delete the pool's sandboxes (a run in progress keeps its own)."""
        if self._opened:
            self._opened = False
            atexit.unregister(self.close)
            self.delete()

    def _keep_warm(self) -> None:
        # A long idle session: parked pods expire after `ttl`; top up
        # again now and then (each run also starts its own replacement).
        if self._opened and time.monotonic() - self._last_fill > self.ttl / 3:
            self.fill(wait=0)

    def run(self, code: str, **kwargs) -> Result:
        """run() with this pool's shape and namespace."""
        return run(code, pool=self, **kwargs)

    def run_many(self, codes: Sequence[str], **kwargs) -> List[Result]:
        """run_many() with this pool's shape and namespace."""
        return run_many(codes, pool=self, **kwargs)

    def __enter__(self) -> "Pool":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"Pool(size={self.size}, image={self.image!r}, cpu={self.cpu!r}, memory={self.memory!r}, "
                f"network={self.network!r}, namespace={self.namespace!r})")
