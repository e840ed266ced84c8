#!/usr/bin/env python3
"""Benchmark kubectl sandbox-run against what users would pick instead, in
one run, on the same cluster: kubectl run --rm -i (kubectl 1.20 and 1.35),
the Python executor on the official client (executor.py), and us (the
plugin, and the library through the Python binding).

Per tool, after a warm-up, N runs of a one-line script: wall time, client
CPU (user+sys) and peak RSS from wait4(), and the time from the script's
last act (it prints time.time()) to the client's exit. Then the API
requests of a run, counted by tests/e2e/faultproxy.py with no faults;
throughput (50 scripts, 10 at a time) with what is left in the namespace;
and the plugin's start-up. Medians and ratios; a table on stdout, CSV,
Markdown and a PNG chart in the output directory.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ONE_LINER = "import time; print(time.time())"


# A small wrapper measures each client: wait4() gives the child's own CPU
# and peak RSS (not the harness's), and the wall time is taken around the
# child alone. It prints one JSON line.
MEASURE = """
import json, os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
out = p.stdout.read()
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t0
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "rss_kib": ru.ru_maxrss,
                  "cpu": ru.ru_utime + ru.ru_stime, "wall": wall, "end": time.time(),
                  "out": out.decode(errors="replace")}))
"""


def measure(argv, env=None):
    out = subprocess.run([sys.executable, "-c", MEASURE] + argv, capture_output=True, text=True, env=env).stdout
    return json.loads(out)


def tools(a):
    overrides = json.dumps({"spec": {"runtimeClassName": "gvisor", "tolerations": [
        {"key": "sandbox.gke.io/runtime", "operator": "Equal", "value": "gvisor", "effect": "NoSchedule"}]}})

    def kubectl_run(kubectl):
        def argv(i, script_path):
            return [kubectl, "run", f"bench-{os.getpid()}-{i}-{int(time.time()*1000)%100000}", "--rm", "-i",
                    "--restart=Never", "--quiet", f"--image={a.image}", "-n", a.namespace,
                    f"--overrides={overrides}", "--", "python3", "-c", open(script_path).read()]
        return argv

    binding = ("import sys, gkexec\n"
               "r = gkexec.run(open(sys.argv[1]).read(), image=sys.argv[2], namespace=sys.argv[3])\n"
               "print(r.output, end='')\nsys.exit(r.exit_code or 0)\n")
    t = [
        ("sandbox-run (plugin)", lambda i, s: [a.plugin, "-q", "--image", a.image, "-n", a.namespace, s]),
        ("sandbox-run (Python binding)", lambda i, s: ["/usr/bin/python3", "-c", binding, s, a.image, a.namespace]),
        ("kubectl run 1.20", kubectl_run(a.kubectl120)),
        ("kubectl run 1.35", kubectl_run(a.kubectl135)),
        ("Python executor", lambda i, s: ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "executor.py"),
                                          a.namespace, a.image, s]),
    ]
    return t


def last_float(out):
    for line in reversed(out.splitlines()):
        if re.fullmatch(r"\d+\.\d+", line.strip()):
            return float(line.strip())
    return None


def leftovers(a, selector):
    out = subprocess.run([a.kubectl120, "-n", a.namespace, "get", "jobs,pods,configmaps", "-l", selector,
                          "-o", "name"], capture_output=True, text=True).stdout.split()
    return len(out)


def clean(a):
    for sel in ("app=pyexec", "app.kubernetes.io/managed-by=kubectl-sandbox-run"):
        subprocess.run([a.kubectl120, "-n", a.namespace, "delete", "jobs,configmaps,pods", "-l", sel,
                        "--wait=false"], capture_output=True)
    subprocess.run([a.kubectl120, "-n", a.namespace, "delete", "pods", "--all", "--wait=false"], capture_output=True)
    time.sleep(2)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--kubectl120", required=True)
    ap.add_argument("--kubectl135", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--proxied-kubeconfig", help="a kubeconfig through faultproxy.py, for request counts")
    ap.add_argument("--proxy-log")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    script = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
    script.write(ONE_LINER + "\n")
    script.close()
    rows = []
    for name, argv in tools(a):
        print(f"== {name}", file=sys.stderr, flush=True)
        walls, cpus, rsss, tails, fails = [], [], [], [], 0
        for i in range(a.runs + 1):
            m = measure(argv(i, script.name))
            if i == 0:
                continue  # warm-up: images, caches, connections
            if m["code"] != 0:
                fails += 1
            walls.append(m["wall"])
            cpus.append(m["cpu"])
            rsss.append(m["rss_kib"] / 1024.0)
            marker = last_float(m["out"])
            tails.append(m["end"] - marker if marker else None)
        rows.append({"tool": name, "runs": a.runs, "failures": fails, "wall_s": med(walls), "cpu_ms": med(cpus) * 1000,
                     "peak_rss_mib": med(rsss), "exit_to_client_exit_ms": (med(tails) or 0) * 1000})
        clean(a)

    # API requests of one run, counted by the proxy.
    if a.proxied_kubeconfig and a.proxy_log:
        env = dict(os.environ, KUBECONFIG=a.proxied_kubeconfig)
        for row, (name, argv) in zip(rows, tools(a)):
            counts = []
            for i in range(3):
                open(a.proxy_log, "w").close()
                subprocess.run(argv(100 + i, script.name), env=env, capture_output=True)
                time.sleep(1.0)
                counts.append(sum(1 for line in open(a.proxy_log) if line.startswith(">")))
            row["api_requests"] = med(counts)
            clean(a)

    # Throughput: 50 scripts, 10 at a time, and what each leaves behind.
    for row, (name, argv) in zip(rows, tools(a)):
        print(f"== throughput {name}", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        if name == "sandbox-run (Python binding)":
            code = ("import sys, gkexec\n"
                    "rs = gkexec.run_many([open(sys.argv[1]).read()] * 50, parallel=10, image=sys.argv[2], namespace=sys.argv[3])\n"
                    "sys.exit(sum(1 for r in rs if not r.ok))\n")
            failures = subprocess.run(["/usr/bin/python3", "-c", code, script.name, a.image, a.namespace],
                                      capture_output=True).returncode
        else:
            with concurrent.futures.ThreadPoolExecutor(10) as pool:
                codes = list(pool.map(lambda i: subprocess.run(argv(1000 + i, script.name), capture_output=True).returncode,
                                      range(50)))
            failures = sum(1 for c in codes if c != 0)
        row["throughput_50_by_10_s"] = time.monotonic() - t0
        row["throughput_failures"] = failures
        time.sleep(3)
        row["left_after_50"] = leftovers(a, "app=pyexec") + leftovers(a, "app.kubernetes.io/managed-by=kubectl-sandbox-run") \
            + len([p for p in subprocess.run([a.kubectl120, "-n", a.namespace, "get", "pods", "-o", "name"],
                                             capture_output=True, text=True).stdout.split() if "bench-" in p])
        clean(a)

    # Start-up of the plugin.
    startup = {}
    for label, extra in (("--version", ["--version"]), ("--dry-run=client", ["--dry-run=client", "-o", "yaml", script.name])):
        ts = []
        for _ in range(20):
            t0 = time.monotonic()
            subprocess.run([a.plugin] + extra, capture_output=True)
            ts.append(time.monotonic() - t0)
        startup[label] = med(ts) * 1000

    write(a, rows, startup)


def fmt(v, f="{:.2f}"):
    return "n/a" if v is None else f.format(v)


def write(a, rows, startup):
    ours = rows[0]
    cols = ["tool", "wall_s", "cpu_ms", "peak_rss_mib", "api_requests", "exit_to_client_exit_ms",
            "throughput_50_by_10_s", "left_after_50", "failures", "throughput_failures"]
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    lines = ["| tool | wall (s) | ×ours | client CPU (ms) | peak RSS (MiB) | API requests | script end → client exit (ms) | 50 runs, 10 at a time (s) | left after 50 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["tool"], fmt(r["wall_s"]), fmt(r["wall_s"] / ours["wall_s"] if ours["wall_s"] else None),
            fmt(r["cpu_ms"], "{:.0f}"), fmt(r["peak_rss_mib"], "{:.1f}"), fmt(r.get("api_requests"), "{:.0f}"),
            fmt(r["exit_to_client_exit_ms"], "{:.0f}"), fmt(r.get("throughput_50_by_10_s"), "{:.1f}"),
            r.get("left_after_50", "n/a")))
    lines.append("")
    lines.append("Plugin start-up (median of 20): `--version` {:.1f} ms, `--dry-run=client -o yaml` {:.1f} ms.".format(
        startup["--version"], startup["--dry-run=client"]))
    table = "\n".join(lines)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        names = [r["tool"].replace(" (", "\n(") for r in rows]
        for ax, key, title in zip(axes, ("wall_s", "cpu_ms", "peak_rss_mib"),
                                  ("wall time (s)", "client CPU (ms)", "peak RSS (MiB)")):
            ax.bar(names, [r[key] or 0 for r in rows], color=["#2b7bba", "#5fa2d6", "#999", "#bbb", "#d9822b"])
            ax.set_title(title + ", median")
            ax.tick_params(axis="x", labelsize=7, rotation=30)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "chart.png"), dpi=110)
    except ImportError:
        print("matplotlib missing: no chart", file=sys.stderr)


if __name__ == "__main__":
    main()
