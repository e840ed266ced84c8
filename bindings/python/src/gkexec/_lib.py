"""Loading libgkexec and declaring the flat C entry points it offers to
bindings (gkexec/session.h): plain C types, JSON text in and out."""
import ctypes
import ctypes.util
import os

_SONAME = "libgkexec.so.0"


class _Error(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_int),
        ("http_status", ctypes.c_long),
        ("reason", ctypes.c_char * 64),
        ("message", ctypes.c_char * 1024),
    ]


OUTPUT_CB = ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t,
                             ctypes.c_void_p)

# (index, phase, job, namespace, pod, userdata): gkx_session_on_phase().
PHASE_CB = ctypes.CFUNCTYPE(None, ctypes.c_uint, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
                            ctypes.c_char_p, ctypes.c_void_p)


def has_phases(lib):
    """A library older than gkx_session_on_phase() still runs; an interrupt
    then cannot name what it left."""
    return hasattr(lib, "gkx_session_on_phase")


def _candidates():
    env = os.environ.get("GKEXEC_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (_SONAME, "libgkexec.so"):
        path = os.path.join(here, name)
        if os.path.exists(path):
            yield path
    found = ctypes.util.find_library("gkexec")
    yield found or _SONAME


def load():
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            lib.gkexec_path = path
            break
        except OSError as e:
            errors.append(f"{path}: {e}")
    else:
        raise OSError("cannot load libgkexec: " + "; ".join(errors) + ". A wheel of gkexec carries it "
                      "(pip install ./bindings/python builds it); otherwise set GKEXEC_LIBRARY to its "
                      "path. It needs the system's libcurl, libyaml and cJSON (Debian: apt-get install "
                      "libcurl4 libyaml-0-2 libcjson1)")
    lib.gkx_version.restype = ctypes.c_char_p
    lib.gkx_version.argtypes = []
    lib.gkx_error_name.restype = ctypes.c_char_p
    lib.gkx_error_name.argtypes = [ctypes.c_int]
    lib.gkx_session_new_from_env.restype = ctypes.c_int
    lib.gkx_session_new_from_env.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p,
                                             ctypes.POINTER(_Error)]
    lib.gkx_session_run.restype = ctypes.c_int
    lib.gkx_session_run.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint, OUTPUT_CB,
                                    ctypes.c_void_p, ctypes.POINTER(_Error)]
    lib.gkx_session_pool.restype = ctypes.c_int
    lib.gkx_session_pool.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_Error)]
    lib.gkx_session_results.restype = ctypes.c_char_p
    lib.gkx_session_results.argtypes = [ctypes.c_void_p]
    lib.gkx_session_cancel.restype = None
    lib.gkx_session_cancel.argtypes = [ctypes.c_void_p]
    if has_phases(lib):
        lib.gkx_session_on_phase.restype = None
        lib.gkx_session_on_phase.argtypes = [ctypes.c_void_p, PHASE_CB, ctypes.c_void_p]
    lib.gkx_session_free.restype = None
    lib.gkx_session_free.argtypes = [ctypes.c_void_p]
    return lib


Error = _Error
