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


def test_wheel_in_a_fresh_venv(tmp_path, cluster):
    """The wheel is tagged for its platform, carries libgkexec, and from a
    fresh virtual environment, with GKEXEC_LIBRARY unset and no system
    libgkexec, runs a script on the cluster."""
    wheels = tmp_path / "wheels"
    subprocess.run(["/usr/bin/python3", "-m", "pip", "wheel", "-q", "--no-build-isolation", "--no-deps",
                    "-w", str(wheels), os.path.join(ROOT, "bindings", "python")], check=True)
    (wheel,) = list(wheels.iterdir())
    assert wheel.name.startswith("gkexec-") and wheel.name.endswith("-py3-none-linux_x86_64.whl"), wheel.name
    ldconfig = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    assert "libgkexec" not in ldconfig, "a system libgkexec would hide what the wheel carries"
    # Nothing of this checkout's reaches the venv but the wheel.
    env = {k: v for k, v in os.environ.items()
           if k not in ("GKEXEC_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH")}
    env["KUBECONFIG"] = cluster["kubeconfig"]
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", str(venv)], check=True, env=env)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-index", str(wheel)], check=True,
                   env=env)
    code = ("import gkexec, sys\n"
            "r = gkexec.run('print(6 * 7)', image=sys.argv[1], namespace=sys.argv[2], cold=True)\n"
            "print(gkexec.library_path())\n"
            "print(r.ok, r.output.strip())\n")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code, cluster["image"], cluster["namespace"]],
                         env=env, cwd=str(tmp_path), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    path, result = out.stdout.strip().splitlines()
    assert path.startswith(str(venv)) and path.endswith("gkexec/libgkexec.so.0"), path
    assert result == "True 42"
