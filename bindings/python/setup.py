"""Building the gkexec package builds libgkexec too.

`pip install ./bindings/python` (or `pip wheel`) runs CMake on the
repository this package lives in, builds the shared library, and puts
libgkexec.so.0 inside the package, next to the code that loads it: a
notebook user needs no separate install. The wheel is therefore tagged for
its platform (py3-none-linux_x86_64, say), not py3-none-any. The library
still links the system's libcurl, libyaml and cJSON (Debian: libcurl4,
libyaml-0-2, libcjson1). GKEXEC_LIBRARY, when set, still wins (_lib.py).
"""
import os
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:  # pip install without the wheel package: no wheel to tag
    bdist_wheel = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SONAME = "libgkexec.so.0"


def version():
    """The library's version, from CMake's project(): one number for both."""
    try:
        with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
            m = re.search(r"project\(gkexec\s+VERSION\s+([0-9.]+)", f.read())
    except OSError:
        m = None
    if not m:
        raise RuntimeError("gkexec takes its version from the repository's CMakeLists.txt: "
                           "install it from a checkout (pip install ./bindings/python)")
    return m.group(1)


class BuildWithLibrary(build_py):
    """The Python files, and libgkexec built by CMake beside them."""

    def run(self):
        super().run()
        if not os.path.exists(os.path.join(ROOT, "libgkexec", "CMakeLists.txt")):
            raise RuntimeError("gkexec builds libgkexec from its repository: install it from a "
                               "checkout (pip install ./bindings/python), not from a copy of "
                               "this directory alone")
        build = os.path.join(os.path.abspath(self.build_lib), "..", "gkexec-cmake")
        subprocess.run(["cmake", "-S", ROOT, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
                        "-DBUILD_TESTING=OFF", "-DGKX_E2E=OFF", "-DBUILD_SHARED_LIBS=ON"],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", build, "--target", "gkexec", "-j", str(os.cpu_count() or 2)],
                       check=True, stdout=subprocess.DEVNULL)
        built = os.path.realpath(os.path.join(build, "libgkexec", SONAME))
        target = os.path.join(self.build_lib, "gkexec", SONAME)
        shutil.copyfile(built, target)
        os.chmod(target, 0o755)


class BinaryDistribution(Distribution):
    """Platform-specific: it carries a shared library."""

    def has_ext_modules(self):
        return True


cmdclass = {"build_py": BuildWithLibrary}
if bdist_wheel is not None:
    class PlatformWheel(bdist_wheel):
        """py3-none-PLATFORM: any Python 3, no extension module ABI (ctypes
        loads the library), but one platform."""

        def get_tag(self):
            _, _, plat = super().get_tag()
            return "py3", "none", plat

    cmdclass["bdist_wheel"] = PlatformWheel

setup(version=version(), cmdclass=cmdclass, distclass=BinaryDistribution)
