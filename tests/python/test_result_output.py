"""What a Result holds: output that is not UTF-8 comes back whole (as text
decoded with errors="replace" and as bytes) from run(), run_many() and a
pool's warm run; a flood keeps its last 1 MiB, or the last limit_bytes."""
import gkexec
from conftest import leftovers

BYTES_PY = 'import sys\nsys.stdout.buffer.write(bytes(range(256)) + b"\\nafter\\n")\n'
WANT = bytes(range(256)) + b"\nafter\n"


def test_result_from_json_keeps_bytes():
    """No cluster: the document the library gives for a binary output."""
    r = gkexec.Result._from_json({"ok": True, "exitCode": 0, "reason": "Completed",
                                  "output": "a\ufffdb\ufffd", "outputBase64": "YQBi/w==",
                                  "stdout": None, "stdoutBase64": None})
    assert r.output_bytes == b"a\0b\xff"
    assert r.output == "a\0b\ufffd"
    assert r.stdout is None and r.stdout_bytes is None
    plain = gkexec.Result._from_json({"ok": True, "exitCode": 0, "reason": "Completed",
                                      "output": "h\u00e9\n", "outputBase64": None})
    assert (plain.output, plain.output_bytes) == ("h\u00e9\n", "h\u00e9\n".encode())


def _check(r):
    assert (r.ok, r.exit_code, r.output_truncated) == (True, 0, False), r
    assert r.output_bytes == WANT
    assert r.output == WANT.decode("utf-8", errors="replace")


def test_binary_output(cluster):
    common = dict(image=cluster["image"], namespace=cluster["namespace"])
    _check(gkexec.run(BYTES_PY, **common))
    _check(gkexec.run(BYTES_PY, cold=True, **common))
    for r in gkexec.run_many([BYTES_PY, BYTES_PY], parallel=2, **common):
        _check(r)
    assert leftovers(cluster) == []


def test_binary_output_warm(cluster):
    with gkexec.Pool(1, image=cluster["image"], namespace=cluster["namespace"], ttl=600) as pool:
        r = pool.run(BYTES_PY)
        assert r.warm is True
        _check(r)
        assert (r.stdout_bytes, r.stderr_bytes, r.stderr) == (WANT, b"", "")
    assert leftovers(cluster, wait=120) == []


def test_flood_keeps_the_tail(cluster):
    code = ('import sys\nfor i in range(3000):\n    sys.stdout.write("%04d" % i + "x" * 995 + "\\n")\n'
            'print("the end")\n')
    streamed = []
    r = gkexec.run(code, image=cluster["image"], namespace=cluster["namespace"], on_output=streamed.append)
    assert r.ok and r.output_truncated
    assert len(r.output_bytes) == 1 << 20
    assert r.output.endswith("2999" + "x" * 995 + "\nthe end\n")
    assert sum(len(s) for s in streamed) == 3000 * 1000 + 8  # the callback got it all
    small = gkexec.run(code, image=cluster["image"], namespace=cluster["namespace"], limit_bytes=20)
    assert (small.output, small.output_truncated) == ("xxxxxxxxxxx\nthe end\n", True)
    assert leftovers(cluster) == []
