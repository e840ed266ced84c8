"""%%sandbox_run: an IPython/Jupyter cell magic that runs the cell in the
sandbox and shows its output as it arrives.

    %load_ext gkexec.magic

    %%sandbox_run --timeout 30s --memory 256Mi
    print("hello from the sandbox")

The Result is kept in the variable `_sandbox_result`. With a Pool open
(`pool = gkexec.Pool(3).open()`), cells of its shape run in its parked
sandboxes: %%sandbox_run --pool pool (the variable's name) uses that one.
"""
import argparse
import shlex
import sys

import gkexec


def _seconds(text):
    units = {"s": 1, "m": 60, "h": 3600}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


def _parser():
    p = argparse.ArgumentParser(prog="%%sandbox_run", add_help=False)
    p.add_argument("--image")
    p.add_argument("--timeout", type=_seconds)
    p.add_argument("--cpu")
    p.add_argument("--memory")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("-n", "--namespace")
    p.add_argument("--context")
    p.add_argument("--kubeconfig")
    p.add_argument("--pool", help="the name of a gkexec.Pool variable")
    p.add_argument("--cold", action="store_true")
    return p


def sandbox_run(line, cell, shell=None):
    try:
        a = _parser().parse_args(shlex.split(line or ""))
    except SystemExit:
        raise gkexec.ConfigError(f"bad arguments to %%sandbox_run: {line!r}", "invalid") from None
    env = dict(item.split("=", 1) for item in a.env if "=" in item)

    def show(text):
        sys.stdout.write(text)
        sys.stdout.flush()

    pool = None
    if a.pool:
        pool = shell.user_ns.get(a.pool) if shell is not None else None
        if not isinstance(pool, gkexec.Pool):
            raise gkexec.ConfigError(f"--pool {a.pool}: no gkexec.Pool of that name in the notebook",
                                     "invalid")
    result = gkexec.run(cell, image=a.image, timeout=a.timeout, cpu=a.cpu, memory=a.memory, env=env,
                        namespace=a.namespace, context=a.context, kubeconfig=a.kubeconfig, on_output=show,
                        pool=pool, cold=a.cold)
    if not result.ok:
        sys.stderr.write(f"sandbox-run: {result.reason}"
                         + (f" (exit code {result.exit_code})" if result.exit_code is not None else "")
                         + (f": {result.message}" if result.message else "") + "\n")
    if shell is not None:
        shell.user_ns["_sandbox_result"] = result
    return None


def load_ipython_extension(ipython):
    def magic(line, cell):
        return sandbox_run(line, cell, ipython)
    ipython.register_magic_function(magic, magic_kind="cell", magic_name="sandbox_run")
