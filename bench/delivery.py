#!/usr/bin/env python3
"""How to hand a cold run's code to its pod: an experiment, under gVisor.

Each way but exec is a Job with the run's own hardening (non-root, read-only root,
no capabilities, RuntimeClass gvisor) whose container writes its one-line
script's output and ends; the time is from the Job's create to the watch
seeing the container terminated. Interleaved rounds, one run of each way
per round in an order shuffled each round (seeded), so that the
cluster's drift hits each alike:

  configmap   the code in a ConfigMap owned by the Job, mounted read-only
              at /app (the Job first, then the ConfigMap); what a Job that
              runs the script itself does (--keep, no right to exec)
  gated       the same, but the Job starts with parallelism 0 and is set
              to 1 once its ConfigMap exists (one more request)
  env-ref     the code in the ConfigMap, handed over as an environment
              variable (configMapKeyRef) and written to an emptyDir /app
  env         the code in the Job's own spec, as an environment variable
              (no ConfigMap; visible to whoever can read pods)
  exec-configmap
              the ConfigMap volume, but the container only waits; the
              client watches the pod's events and, when the kubelet records
              Started, execs the interpreter (retrying every 50 ms while
              the container is not found); the time ends when the exec
              returns the output, with no pod status at all
  exec        today's design: as exec-configmap, but with no ConfigMap: an
              empty /app, and the exec writes the code there and runs it
              (here the code is an argument of the exec, for brevity; the
              plugin sends it on the exec's stdin)

Writes delivery.csv and delivery.md into the output directory.
"""
import argparse
import csv
import math
import os
import random
import statistics
import string
import sys
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import stream

CODE = "import time; print(time.time())\n"
WAYS = ("configmap", "gated", "env-ref", "env", "exec-configmap", "exec")


def job(name, way, image):
    vols = [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    env = [{"name": "HOME", "value": "/tmp"}, {"name": "PYTHONUNBUFFERED", "value": "1"}]
    if way in ("configmap", "gated", "exec-configmap"):
        vols.append({"name": "code", "configMap": {"name": name, "defaultMode": 0o444}})
        mounts.append({"name": "code", "mountPath": "/app", "readOnly": True})
        cmd = ["/bin/sh", "-c", "exec python3 /app/s.py 2>&1"]
        if way == "exec-configmap":
            cmd = ["/bin/sh", "-c", "exec sleep 2147483647"]
    elif way == "exec":
        vols.append({"name": "code", "emptyDir": {"sizeLimit": "4Mi"}})
        mounts.append({"name": "code", "mountPath": "/app"})
        cmd = ["/bin/sh", "-c", "exec sleep 2147483647"]
    else:
        vols.append({"name": "code", "emptyDir": {"sizeLimit": "4Mi"}})
        mounts.append({"name": "code", "mountPath": "/app"})
        if way == "env":
            env.append({"name": "SANDBOX_RUN_CODE", "value": CODE})
        else:
            env.append({"name": "SANDBOX_RUN_CODE",
                        "valueFrom": {"configMapKeyRef": {"name": name, "key": "s.py"}}})
        cmd = ["/bin/sh", "-c", 'umask 0222 && printf %s "$SANDBOX_RUN_CODE" >/app/s.py && '
                                'exec python3 /app/s.py 2>&1']
    spec = {"backoffLimit": 0, "activeDeadlineSeconds": 120, "template": {
        "metadata": {"labels": {"app": "delivery-experiment"}},
        "spec": {
            "runtimeClassName": "gvisor", "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False, "enableServiceLinks": False,
            "tolerations": [{"key": "sandbox.gke.io/runtime", "operator": "Equal", "value": "gvisor",
                             "effect": "NoSchedule"}],
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1001, "runAsGroup": 1001,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "sandbox", "image": image, "imagePullPolicy": "IfNotPresent",
                            "command": cmd, "env": env, "volumeMounts": mounts, "workingDir": "/app",
                            "securityContext": {"readOnlyRootFilesystem": True,
                                                "allowPrivilegeEscalation": False,
                                                "capabilities": {"drop": ["ALL"]}}}],
            "volumes": vols}}}
    if way == "gated":
        spec["parallelism"] = 0
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "labels": {"app": "delivery-experiment"}}, "spec": spec}


def once(api, way, a):
    batch, core = api
    name = "delivery-" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))
    t0 = time.monotonic()
    j = batch.create_namespaced_job(a.namespace, job(name, way, a.image))
    if way not in ("env", "exec"):
        core.create_namespaced_config_map(a.namespace, {
            "metadata": {"name": name, "labels": {"app": "delivery-experiment"},
                         "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": name,
                                              "uid": j.metadata.uid}]},
            "data": {"s.py": CODE}, "immutable": True})
    if way == "gated":
        batch.patch_namespaced_job(name, a.namespace, {"spec": {"parallelism": 1}})
    if way.startswith("exec"):
        seconds = by_exec(core, name, way, a, t0)
        batch.delete_namespaced_job(name, a.namespace, propagation_policy="Background")
        return seconds
    seconds = None
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_pod, a.namespace, label_selector=f"job-name={name}",
                       timeout_seconds=60):
        cs = ev["object"].status.container_statuses
        if cs and cs[0].state.terminated:
            seconds = time.monotonic() - t0
            w.stop()
    batch.delete_namespaced_job(name, a.namespace, propagation_policy="Background")
    return seconds


def by_exec(core, name, way, a, t0):
    pod = None
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_pod, a.namespace, label_selector=f"job-name={name}",
                       timeout_seconds=60):
        if ev["object"].spec.node_name:
            pod = ev["object"].metadata.name
            w.stop()
    if not pod:
        return None
    w = watch.Watch()
    for ev in w.stream(core.list_namespaced_event, a.namespace, timeout_seconds=60,
                       field_selector=f"involvedObject.kind=Pod,involvedObject.name={pod}"):
        if ev["object"].reason == "Started":
            w.stop()
    command = ["python3", "/app/s.py"]
    if way == "exec":
        command = ["/bin/sh", "-c", 'umask 0222 && printf %s "$0" >/app/s.py && '
                                    'exec python3 /app/s.py 2>&1', CODE]
    for _ in range(200):
        try:
            out = stream(core.connect_get_namespaced_pod_exec, pod, a.namespace,
                         container="sandbox", command=command,
                         stderr=True, stdin=False, stdout=True, tty=False)
            if out.strip():
                return time.monotonic() - t0
        except ApiException:
            pass
        time.sleep(0.05)
    return None


def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, math.ceil(p / 100 * len(xs)) - 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubeconfig", required=True)
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--image", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    config.load_kube_config(a.kubeconfig)
    api = (client.BatchV1Api(), client.CoreV1Api())
    times = {w: [] for w in WAYS}
    for i in range(a.rounds + 1):
        print(f"== delivery round {i}", file=sys.stderr, flush=True)
        order = list(WAYS)
        random.Random(i).shuffle(order)  # no way always first, or after the same one
        for way in order:
            t = once(api, way, a)
            if i and t is not None:
                times[way].append(t)
            time.sleep(0.5)
    with open(os.path.join(a.out, "delivery.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["way", "round", "create_to_terminated_s"])
        for way in WAYS:
            for i, t in enumerate(times[way], 1):
                w.writerow([way, i, "%.3f" % t])
    lines = ["| way | runs | p50 (s) | p90 (s) | max (s) | runs over 1.9 s |", "| --- | --- | --- | --- | --- | --- |"]
    for way in WAYS:
        ts = times[way]
        lines.append("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {} |".format(
            way, len(ts), statistics.median(ts), pct(ts, 90), max(ts), sum(1 for t in ts if t > 1.9)))
    lines.append("")
    lines.append("Create to the watch seeing the container terminated (exec: to the exec "
                 "returning the output), {} interleaved rounds (order shuffled each round) after a "
                 "warm-up, one-line script, RuntimeClass gvisor.".format(a.rounds))
    text = "\n".join(lines) + "\n"
    open(os.path.join(a.out, "delivery.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
