"""`pip install ./bindings/python` works from the source tree (offline, with
Debian's pip, setuptools and wheel: --no-build-isolation), and the installed
package is the binding, magic included."""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_pip_install(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
                    "--target", str(target), os.path.join(ROOT, "bindings", "python")], check=True)
    assert (target / "gkexec" / "__init__.py").exists()
    assert (target / "gkexec" / "magic.py").exists()
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", "import gkexec, gkexec.magic; print(gkexec.library_version())"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().count(".") == 2
