#!/usr/bin/env python3
"""The Python executor this product is modelled on, re-expressed with the
official Kubernetes Python client (Debian's python3-kubernetes), kept
faithful: no optimisations it does not have.

  create a ConfigMap with the code; create the hardened Job; watch Jobs with
  a field selector on the name until it succeeded or failed; list pods by
  job-name; read the pod's log once; delete the ConfigMap (the Job is left
  to ttlSecondsAfterFinished).

Usage: executor.py NAMESPACE IMAGE SCRIPT   (prints the log, exits with the
pod's exit code)
"""
import sys
import uuid

from kubernetes import client, config, watch


def main():
    ns, image, path = sys.argv[1], sys.argv[2], sys.argv[3]
    code = open(path).read()
    config.load_kube_config()
    core, batch = client.CoreV1Api(), client.BatchV1Api()
    name = "pyexec-" + uuid.uuid4().hex[:8]
    core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "pyexec"}), data={"main.py": code}))
    sc = client.V1SecurityContext(run_as_non_root=True, run_as_user=1001, allow_privilege_escalation=False,
                                  read_only_root_filesystem=True,
                                  capabilities=client.V1Capabilities(drop=["ALL"]))
    pod = client.V1PodSpec(
        restart_policy="Never", runtime_class_name="gvisor",
        tolerations=[client.V1Toleration(key="sandbox.gke.io/runtime", operator="Equal", value="gvisor",
                                         effect="NoSchedule")],
        containers=[client.V1Container(
            name="main", image=image, command=["python3", "/app/main.py"], security_context=sc,
            env=[client.V1EnvVar(name="PYTHONUNBUFFERED", value="1")],
            volume_mounts=[client.V1VolumeMount(name="code", mount_path="/app", read_only=True)])],
        volumes=[client.V1Volume(name="code", config_map=client.V1ConfigMapVolumeSource(name=name))])
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "pyexec"}),
        spec=client.V1JobSpec(backoff_limit=0, ttl_seconds_after_finished=600,
                              template=client.V1PodTemplateSpec(
                                  metadata=client.V1ObjectMeta(labels={"app": "pyexec"}), spec=pod)))
    batch.create_namespaced_job(ns, job)
    w = watch.Watch()
    for event in w.stream(batch.list_namespaced_job, ns, field_selector=f"metadata.name={name}",
                          timeout_seconds=300):
        st = event["object"].status
        if st.succeeded or st.failed:
            w.stop()
            break
    pods = core.list_namespaced_pod(ns, label_selector=f"job-name={name}").items
    exit_code = 1
    if pods:
        print(core.read_namespaced_pod_log(pods[0].metadata.name, ns), end="")
        term = pods[0].status.container_statuses[0].state.terminated if pods[0].status.container_statuses else None
        exit_code = term.exit_code if term else 1
    core.delete_namespaced_config_map(name, ns)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
