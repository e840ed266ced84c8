#!/usr/bin/env python3
"""Benchmark kubectl sandbox-run against what users would pick instead, in
one run, on the same cluster: kubectl run --rm -i (kubectl 1.20 and 1.35),
the Python executor on the official client (executor.py), and us (the
plugin, and the library through the Python binding).

Every tool runs its pods with RuntimeClass gvisor (what users run), and
before anything is measured a probe checks that this really is gVisor.

After a warm-up round, N interleaved rounds (each tool once per round, so
that drift in the cluster hits every tool alike) of a one-line script.
Each round runs the cold tools, then the warm ones, each group in an
order shuffled each round (seeded, so that a rerun repeats it), and then
waits for the pool to be full again: a tool that always followed the
same one, or always came first after the pause, would carry that one's
teardown or the quiet in its figures, and a cold run right after a warm
one would pay for the replacement sandbox the node is starting. Measured:
wall time, client CPU (user+sys) and peak RSS from wait4(), and the time
from the script's last act (it prints time.time()) to the client's exit.
Wall time is reported as p50, p90 and max (nearest rank): the node reports
pod status in about one-second steps, so a median alone hides the tail.
Then the API requests of a run, counted by tests/e2e/faultproxy.py with no
faults; throughput (50 scripts, 10 at a time) with what is left in the
namespace; and the plugin's start-up. A table on stdout, CSV, Markdown,
the raw samples (samples.csv) and a PNG chart in the output directory.
"""
import math
import argparse
import concurrent.futures
import csv
import json
import os
import random
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
import json, os, subprocess, sys, tempfile, time
err = tempfile.TemporaryFile()
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
out = p.stdout.read()
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t0
err.seek(0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "rss_kib": ru.ru_maxrss,
                  "cpu": ru.ru_utime + ru.ru_stime, "wall": wall, "end": time.time(),
                  "out": out.decode(errors="replace"), "err": err.read().decode(errors="replace")}))
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
               "r = gkexec.run(open(sys.argv[1]).read(), image=sys.argv[2], namespace=sys.argv[3],\n"
               "               cold=sys.argv[4] == 'cold')\n"
               "print(r.output, end='')\nprint('warm' if r.warm else 'cold', file=sys.stderr)\n"
               "sys.exit(r.exit_code or 0)\n")

    def plugin(mode):
        def argv(i, s):
            return [a.plugin, "-v=1", "--image", a.image, "-n", a.namespace] + \
                (["--cold"] if mode == "cold" else []) + [s]
        return argv

    def exec_floor(i, s):
        # kubectl exec into a gVisor pod that is already running: what any
        # warm path pays at least (the pod is a parked sandbox of another
        # shape, which no run claims).
        return [a.kubectl120, "exec", "-i", "-n", a.namespace, a.floor_pod, "--", "python3", "-c",
                open(s).read()]

    t = [
        ("sandbox-run cold (plugin)", plugin("cold")),
        ("sandbox-run warm (plugin)", plugin("warm")),
        ("sandbox-run cold (Python binding)",
         lambda i, s: ["/usr/bin/python3", "-c", binding, s, a.image, a.namespace, "cold"]),
        ("sandbox-run warm (Python binding)",
         lambda i, s: ["/usr/bin/python3", "-c", binding, s, a.image, a.namespace, "warm"]),
        ("kubectl exec into a running pod", exec_floor),
        ("kubectl run 1.20", kubectl_run(a.kubectl120)),
        ("kubectl run 1.35", kubectl_run(a.kubectl135)),
        ("Python executor", lambda i, s: ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "executor.py"),
                                          a.namespace, a.image, s]),
    ]
    return t


def pool(a, *args):
    out = subprocess.run([a.plugin, "--image", a.image, "-n", a.namespace, "pool"] + list(args),
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"pool {' '.join(args)}: {out.stderr}")
    return out.stdout


def last_float(out):
    for line in reversed(out.splitlines()):
        if re.fullmatch(r"\d+\.\d+", line.strip()):
            return float(line.strip())
    return None


# What runs leave: the tools' objects, never the pools' parked sandboxes.
RUN_SELECTORS = ("app=pyexec", "app.kubernetes.io/managed-by=kubectl-sandbox-run,!sandbox-run.gkexec.dev/pool")


def leftovers(a, selector):
    out = subprocess.run([a.kubectl120, "-n", a.namespace, "get", "jobs,pods,configmaps", "-l", selector,
                          "-o", "name"], capture_output=True, text=True).stdout.split()
    return len(out)


def clean(a):
    for sel in RUN_SELECTORS:
        subprocess.run([a.kubectl120, "-n", a.namespace, "delete", "jobs,configmaps,pods", "-l", sel,
                        "--wait=false"], capture_output=True)
    pods = subprocess.run([a.kubectl120, "-n", a.namespace, "get", "pods", "-o", "name"],
                          capture_output=True, text=True).stdout.split()
    bench = [p for p in pods if p.startswith("pod/bench-")]
    if bench:
        subprocess.run([a.kubectl120, "-n", a.namespace, "delete", "--wait=false"] + bench,
                       capture_output=True)
    time.sleep(2)


def is_warm_tool(name):
    """A tool that runs in a pod already running: ours warm, and kubectl exec."""
    return "warm" in name or "kubectl exec" in name


def wait_parked(a, want, limit_s=60):
    """Until the pool has WANT parked sandboxes again (its replacements up)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s:
        st = json.loads(pool(a, "status", "-o", "json"))
        if st.get("parked", 0) >= want:
            return
        time.sleep(0.5)


def was_warm(name, m):
    if "warm" not in name:
        return None
    return "sandbox-run: claimed " in m["err"] or m["err"].strip().endswith("warm")


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """The p-th percentile by nearest rank: a value that was measured."""
    xs = sorted(x for x in xs if x is not None)
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)] if xs else None


def gvisor_check(a):
    """Refuse to measure unless a sandbox that asks for gvisor runs on it."""
    probe = os.path.join(os.path.dirname(__file__), "..", "tests", "e2e", "gvisor_probe.py")
    out = subprocess.run([a.plugin, "-q", "--image", a.image, "-n", a.namespace, probe],
                         capture_output=True, text=True).stdout
    signs = dict(line.split()[1:3] for line in out.splitlines() if line.startswith("sign "))
    if signs.get("kernel") != "yes" or signs.get("dmesg") != "yes":
        sys.exit("RuntimeClass gvisor is not gVisor here (probe said: %r); not measuring" % out)
    return [line for line in out.splitlines() if line.startswith("sign kernel")][0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--kubectl120", required=True)
    ap.add_argument("--kubectl135", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--proxied-kubeconfig", help="a kubeconfig through faultproxy.py, for request counts")
    ap.add_argument("--proxy-log")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    script = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
    script.write(ONE_LINER + "\n")
    script.close()
    # Start-up of the plugin, first, while the node is idle: later, pods of
    # the runs before are still being torn down and share the 2 cores.
    startup = {}
    for label, extra in (("--version", ["--version"]), ("--dry-run=client", ["--dry-run=client", "-o", "yaml", script.name])):
        ts = []
        for _ in range(20):
            t0 = time.monotonic()
            subprocess.run([a.plugin] + extra, capture_output=True)
            ts.append(time.monotonic() - t0)
        startup[label] = med(ts) * 1000

    a.gvisor = gvisor_check(a)
    # The warm tools' pool, and a pod of another shape for the exec floor.
    pool(a, "delete", "--all", "-q")
    pool(a, "create", "--size", "3", "--ttl", "3h")
    subprocess.run([a.plugin, "--image", a.image, "-n", a.namespace, "--memory", "384Mi", "pool", "create",
                    "--size", "1", "--ttl", "3h"], capture_output=True, check=True)
    a.floor_pod = subprocess.run([a.kubectl120, "-n", a.namespace, "get", "pods", "-l",
                                  "sandbox-run.gkexec.dev/state=parked", "-o",
                                  "jsonpath={.items[?(@.spec.containers[0].resources.limits.memory==\"384Mi\")]"
                                  ".metadata.name}"], capture_output=True, text=True).stdout.split()[0]
    ts = tools(a)
    samples = {name: [] for name, _ in ts}
    for i in range(a.runs + 1):
        print(f"== round {i}{' (warm-up)' if i == 0 else ''}", file=sys.stderr, flush=True)
        rnd = random.Random(i)
        cold = [t for t in ts if not is_warm_tool(t[0])]
        warm = [t for t in ts if is_warm_tool(t[0])]
        rnd.shuffle(cold)
        rnd.shuffle(warm)
        for name, argv in cold + warm:
            m = measure(argv(i, script.name))
            if i == 0:
                continue  # warm-up: images, caches, connections
            marker = last_float(m["out"])
            m["tail"] = m["end"] - marker if marker else None
            m["warm"] = was_warm(name, m)
            samples[name].append(m)
        clean(a)
        wait_parked(a, 3)
    rows = []
    for name, _ in ts:
        ms = samples[name]
        walls = [m["wall"] for m in ms]
        rows.append({"tool": name, "runs": a.runs, "failures": sum(1 for m in ms if m["code"] != 0),
                     "wall_p50_s": pct(walls, 50), "wall_p90_s": pct(walls, 90), "wall_max_s": max(walls),
                     "cpu_ms": med([m["cpu"] for m in ms]) * 1000,
                     "peak_rss_mib": med([m["rss_kib"] / 1024.0 for m in ms]),
                     "exit_to_client_exit_ms": (med([m["tail"] for m in ms]) or 0) * 1000,
                     "warm_hits": None if ms[0]["warm"] is None else sum(1 for m in ms if m["warm"])})
    with open(os.path.join(a.out, "samples.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tool", "round", "exit_code", "wall_s", "cpu_s", "peak_rss_kib", "script_end_to_exit_s",
                    "warm"])
        for name, _ in ts:
            for i, m in enumerate(samples[name], 1):
                w.writerow([name, i, m["code"], "%.4f" % m["wall"], "%.4f" % m["cpu"], m["rss_kib"],
                            "" if m["tail"] is None else "%.4f" % m["tail"],
                            "" if m["warm"] is None else int(m["warm"])])

    # API requests of one run, counted by the proxy.
    if a.proxied_kubeconfig and a.proxy_log:
        env = dict(os.environ, KUBECONFIG=a.proxied_kubeconfig)
        for row, (name, argv) in zip(rows, tools(a)):
            counts = []
            for i in range(3):
                open(a.proxy_log, "w").close()
                subprocess.run(argv(100 + i, script.name), env=env, capture_output=True)
                time.sleep(4.0 if "warm" in name else 1.0)  # a warm run's replacement parks
                counts.append(sum(1 for line in open(a.proxy_log) if line.startswith(">")))
            row["api_requests"] = med(counts)
            clean(a)

    # Throughput: 50 scripts, 10 at a time, and what each leaves behind.
    for row, (name, argv) in zip(rows, tools(a)):
        print(f"== throughput {name}", file=sys.stderr, flush=True)
        if "warm" in name:
            # As many parked as run at once; each run starts a replacement.
            pool(a, "create", "--size", "10", "--ttl", "3h")
        t0 = time.monotonic()
        if "Python binding" in name:
            code = ("import sys, gkexec\n"
                    "rs = gkexec.run_many([open(sys.argv[1]).read()] * 50, parallel=10, image=sys.argv[2], "
                    "namespace=sys.argv[3], cold=sys.argv[4] == 'cold')\n"
                    "print(sum(1 for r in rs if r.warm))\n"
                    "sys.exit(sum(1 for r in rs if not r.ok))\n")
            out = subprocess.run(["/usr/bin/python3", "-c", code, script.name, a.image, a.namespace,
                                  "warm" if "warm" in name else "cold"], capture_output=True, text=True)
            failures = out.returncode
            row["throughput_warm"] = int(out.stdout.strip() or 0) if "warm" in name else None
        else:
            with concurrent.futures.ThreadPoolExecutor(10) as ex:
                done = list(ex.map(lambda i: subprocess.run(argv(1000 + i, script.name), capture_output=True,
                                                           text=True), range(50)))
            failures = sum(1 for d in done if d.returncode != 0)
            row["throughput_warm"] = sum(1 for d in done if "sandbox-run: claimed " in d.stderr) \
                if "warm" in name else None
        row["throughput_50_by_10_s"] = time.monotonic() - t0
        row["throughput_failures"] = failures
        time.sleep(3)
        row["left_after_50"] = sum(leftovers(a, sel) for sel in RUN_SELECTORS) \
            + len([p for p in subprocess.run([a.kubectl120, "-n", a.namespace, "get", "pods", "-o", "name"],
                                             capture_output=True, text=True).stdout.split() if "bench-" in p])
        clean(a)

    pool(a, "delete", "--all", "-q")

    write(a, rows, startup)


def fmt(v, f="{:.2f}"):
    return "n/a" if v is None else f.format(v)


def write(a, rows, startup):
    ours = rows[0]
    cols = ["tool", "runs", "wall_p50_s", "wall_p90_s", "wall_max_s", "cpu_ms", "peak_rss_mib", "api_requests",
            "exit_to_client_exit_ms", "throughput_50_by_10_s", "left_after_50", "warm_hits", "throughput_warm",
            "failures", "throughput_failures"]
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)

    def ratio(r, key):
        return r[key] / ours[key] if ours[key] else None

    lines = ["| tool | wall p50 (s) | p90 (s) | max (s) | p50 ×ours | p90 ×ours | client CPU (ms) | peak RSS (MiB) "
             "| API requests | script end → client exit (ms) | 50 runs, 10 at a time (s) | left after 50 "
             "| warm runs | failed runs |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        warm = "" if r.get("warm_hits") is None else "{}/{}; {}/50".format(
            r["warm_hits"], r["runs"], fmt(r.get("throughput_warm"), "{:.0f}"))
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["tool"], fmt(r["wall_p50_s"]), fmt(r["wall_p90_s"]), fmt(r["wall_max_s"]),
            fmt(ratio(r, "wall_p50_s")), fmt(ratio(r, "wall_p90_s")),
            fmt(r["cpu_ms"], "{:.0f}"), fmt(r["peak_rss_mib"], "{:.1f}"), fmt(r.get("api_requests"), "{:.0f}"),
            fmt(r["exit_to_client_exit_ms"], "{:.0f}"), fmt(r.get("throughput_50_by_10_s"), "{:.1f}"),
            r.get("left_after_50", "n/a"), warm, "{}/{}".format(r["failures"], r["runs"])))
    lines.append("")
    lines.append("{} interleaved rounds after a warm-up (cold tools, then warm, each group shuffled; then "
                 "the pool refilled); every pod "
                 "under RuntimeClass gvisor, checked first: "
                 "`{}`. Warm runs: from a pool of 3 parked sandboxes of the same shape (10 for the 50-run "
                 "test); \"warm runs\" counts those that were served warm (rounds; of the 50). Cold tools run "
                 "with --cold / cold=True so that the pool cannot serve them.".format(a.runs, a.gvisor))
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
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
        names = [r["tool"].replace(" (", "\n(") for r in rows]
        colors = ["#2b7bba", "#1a9850", "#5fa2d6", "#66bd63", "#555", "#999", "#bbb", "#d9822b"][:len(rows)]
        ax = axes[0]
        x = range(len(rows))
        ax.bar([i - 0.27 for i in x], [r["wall_p50_s"] or 0 for r in rows], 0.27, label="p50", color=colors)
        ax.bar(x, [r["wall_p90_s"] or 0 for r in rows], 0.27, label="p90", color=colors, alpha=0.6)
        ax.bar([i + 0.27 for i in x], [r["wall_max_s"] or 0 for r in rows], 0.27, label="max", color=colors, alpha=0.3)
        ax.set_xticks(list(x))
        ax.set_xticklabels(names)
        ax.set_title("wall time (s): p50, p90, max")
        ax.tick_params(axis="x", labelsize=7, rotation=30)
        for ax, key, title in zip(axes[1:], ("cpu_ms", "peak_rss_mib"), ("client CPU (ms)", "peak RSS (MiB)")):
            ax.bar(names, [r[key] or 0 for r in rows], color=colors)
            ax.set_title(title + ", median")
            ax.tick_params(axis="x", labelsize=7, rotation=30)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "chart.png"), dpi=110)
    except ImportError:
        print("matplotlib missing: no chart", file=sys.stderr)


if __name__ == "__main__":
    main()
