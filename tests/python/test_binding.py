"""The Python binding against a real cluster: results, failures, timeouts,
configuration errors, 20 snippets at once, and the cell magic in IPython."""
import time

import pytest

import gkexec
from conftest import leftovers


def test_result_fields(cluster):
    seen = []
    r = gkexec.run("import sys\nprint('hi')\nprint('there', file=sys.stderr)\n",
                   image=cluster["image"], namespace=cluster["namespace"], on_output=seen.append)
    assert r.ok is True
    assert r.exit_code == 0
    assert r.reason == "Completed"
    assert r.output == "hi\nthere\n"
    assert "".join(seen) == r.output  # streamed as it came
    assert r.name.startswith("sandbox-run-") and r.namespace == cluster["namespace"]
    assert r.error is None
    assert set(r.timings) == {"created", "scheduled", "started", "ended", "finished"}
    assert 0 <= r.timings["created"] <= r.timings["finished"]
    assert 4 <= r.api_requests <= 16  # a slow start adds exec tries
    assert leftovers(cluster) == []


def test_failing_script(cluster):
    r = gkexec.run("import sys\nprint('about to fail')\nsys.exit(3)\n", image=cluster["image"],
                   namespace=cluster["namespace"])
    assert (r.ok, r.exit_code, r.reason, r.output) == (False, 3, "Error", "about to fail\n")
    assert leftovers(cluster) == []


def test_timeout(cluster):
    start = time.monotonic()
    r = gkexec.run("import time\nprint('napping', flush=True)\ntime.sleep(60)\n", timeout=4,
                   image=cluster["image"], namespace=cluster["namespace"])
    assert r.reason == "DeadlineExceeded"
    assert r.exit_code is None and r.ok is False
    assert r.output == "napping\n"
    assert time.monotonic() - start < 20
    assert leftovers(cluster) == []


def test_files_env_and_args(cluster):
    r = gkexec.run("import os, sys\nprint(open('/app/data.txt').read(), os.environ['WHO'], sys.argv[1:])\n",
                   files={"data.txt": "payload"}, env={"WHO": "me"}, args=["a b"],
                   image=cluster["image"], namespace=cluster["namespace"])
    assert r.output == "payload me ['a b']\n"


def test_network_none(cluster):
    """network="none" goes through the session's JSON to a policy that
    exists while the snippet runs and is gone after."""
    import subprocess
    code = ("import time\nprint('running', flush=True)\ntime.sleep(4)\n")
    seen = {}

    def look(_text):
        out = subprocess.run([cluster["kubectl"], "--kubeconfig", cluster["kubeconfig"], "-n", cluster["namespace"],
                              "get", "networkpolicies", "-l", "app.kubernetes.io/managed-by=kubectl-sandbox-run",
                              "-o", "name"], capture_output=True, text=True, check=True).stdout.split()
        seen.setdefault("policies", out)

    r = gkexec.run(code, network="none", image=cluster["image"], namespace=cluster["namespace"], on_output=look)
    assert r.ok and r.output == "running\n"
    assert seen["policies"] == ["networkpolicy.networking.k8s.io/" + r.name]
    assert leftovers(cluster) == []
    with pytest.raises(gkexec.ConfigError) as e:
        gkexec.run("print(1)", network="off", namespace=cluster["namespace"])
    assert 'network "off"' in str(e.value)


def test_configuration_error(cluster):
    with pytest.raises(gkexec.ConfigError) as e:
        gkexec.run("print(1)", kubeconfig="/nonexistent/kubeconfig")
    assert "/nonexistent/kubeconfig" in str(e.value)
    assert e.value.code == "config"
    with pytest.raises(gkexec.ConfigError) as e:
        gkexec.run("print(1)", cpu="lots", namespace=cluster["namespace"])
    assert 'cpu "lots"' in str(e.value)


def test_cluster_error(cluster):
    with pytest.raises(gkexec.ClusterError) as e:
        gkexec.run("print(1)", image="127.0.0.1:1/missing:1", namespace=cluster["namespace"])
    assert e.value.code == "start"
    assert "127.0.0.1:1/missing:1" in str(e.value)
    assert e.value.result.reason == "ImagePullBackOff"


def test_run_many(cluster):
    codes = [f"import time\ntime.sleep({i % 3} / 10)\nprint({i} * {i})\n" for i in range(20)]
    start = time.monotonic()
    results = gkexec.run_many(codes, parallel=5, image=cluster["image"], namespace=cluster["namespace"])
    took = time.monotonic() - start
    assert [r.output for r in results] == [f"{i * i}\n" for i in range(20)]
    assert all(r.ok and r.reason == "Completed" for r in results)
    assert len({r.name for r in results}) == 20
    assert leftovers(cluster, wait=60) == []
    print(f"20 snippets, 5 at a time: {took:.1f} s")


def test_run_many_keeps_going_past_a_bad_snippet(cluster):
    results = gkexec.run_many(["print(1)", "print(2)"], parallel=2, image=cluster["image"],
                              namespace=cluster["namespace"], memory="not-a-size")
    assert all(r.error_code == "invalid" and "memory" in r.error for r in results)
    results = gkexec.run_many(["print(1)", "import sys; sys.exit(4)"], parallel=2, image=cluster["image"],
                              namespace=cluster["namespace"])
    assert [(r.ok, r.exit_code) for r in results] == [(True, 0), (False, 4)]


def test_cell_magic(cluster, capsys):
    from IPython.testing.globalipapp import start_ipython
    ip = start_ipython()
    ip.run_line_magic("load_ext", "gkexec.magic")
    ip.run_cell_magic("sandbox_run", f"--image {cluster['image']} -n {cluster['namespace']} --timeout 60s -e X=7",
                      "import os\nprint(40 + int(os.environ['X']) - 5)\n")
    assert "42\n" in capsys.readouterr().out
    r = ip.user_ns["_sandbox_result"]
    assert r.ok and r.output == "42\n"
    assert leftovers(cluster) == []


def test_library_version():
    assert gkexec.library_version().count(".") == 2


def test_pool(cluster):
    """A pool of parked sandboxes: runs of its shape are warm, with stdout
    and stderr apart; a run of another shape is not; nothing is left after
    the pool closes."""
    with gkexec.Pool(2, image=cluster["image"], namespace=cluster["namespace"], ttl=600) as pool:
        st = pool.status()
        assert st.parked == 2, st
        r = pool.run("import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(4)\n")
        assert (r.warm, r.exit_code, r.ok, r.reason) == (True, 4, False, "Error")
        assert (r.stdout, r.stderr, r.output) == ("out\n", "err\n", "out\nerr\n")
        assert r.pod and r.pod.startswith("sandbox-pool-")
        other = gkexec.run("print(1)", image=cluster["image"], namespace=cluster["namespace"],
                           memory="256Mi")
        assert other.warm is False and other.stdout is None and other.output == "1\n"
        cold = pool.run("print(2)", cold=True)
        assert cold.warm is False and cold.output == "2\n"
    assert leftovers(cluster, wait=120) == []
