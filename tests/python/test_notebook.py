"""bindings/python/example.ipynb, executed for real, headless, by nbclient
(Debian's python3-nbclient, with python3-ipykernel's kernel) against the
cluster: every cell runs, and what the cells show is asserted."""
import os

import pytest

NOTEBOOK = os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python", "example.ipynb")


def text_of(cell):
    """Everything a cell showed: streams and results."""
    out = []
    for o in cell.get("outputs", []):
        if o["output_type"] == "stream":
            out.append(o["text"])
        elif o["output_type"] in ("execute_result", "display_data"):
            out.append(o["data"].get("text/plain", ""))
        elif o["output_type"] == "error":
            out.append("ERROR " + o["ename"] + ": " + o["evalue"])
    return "".join(out)


def test_example_notebook(cluster, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError if any cell raised
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = [text_of(c) for c in code]
    assert all("ERROR" not in s for s in shown), shown
    assert "kernel 4.4.0" in shown[0] and "reason='Completed'" in shown[0]   # gVisor's kernel
    assert "ok: True | exit code: 0 | reason: Completed" in shown[1]
    table = shown[2].strip().splitlines()
    assert len(table) == 7 and table[0].split()[:3] == ["#", "ok", "exit"]
    assert [row.split()[3] for row in table[1:]] == [str(i * i) for i in range(6)]
    magic = shown[4]
    assert magic.count("tick") == 3 and "as uid 1001" in magic
    assert shown[5].strip() == "('Completed', 0, 3)"
    failed = shown[6]
    assert "about to divide by zero" in failed and "ZeroDivisionError" in failed
    assert "sandbox-run: Error (exit code 1)" in failed
    assert "the failed run ended with Error and exit code 1" in shown[7]
    assert "warm: True" in shown[8] and "stdout: 'to stdout\\n' | stderr: 'to stderr\\n'" in shown[8]
