"""The Python binding's tests run against the same cluster as the e2e tests:
GKX_E2E_KUBECONFIG when set, else the local cluster tests/cluster/up.sh
started (its env file); without either they are skipped."""
import os
import subprocess

import pytest

CLUSTER_ENV = os.environ.get("GKX_CLUSTER_DIR", "/var/lib/gkexec-cluster") + "/env"


def _cluster():
    env = {}
    if os.path.exists(CLUSTER_ENV):
        for line in open(CLUSTER_ENV):
            if "=" in line:
                k, v = line.strip().split("=", 1)
                env[k] = v
    env.update({k: v for k, v in os.environ.items() if k.startswith("GKX_E2E_")})
    return env if env.get("GKX_E2E_KUBECONFIG") else None


@pytest.fixture(scope="session")
def cluster():
    env = _cluster()
    if not env:
        pytest.skip("no cluster: set GKX_E2E_KUBECONFIG or start tests/cluster/up.sh")
    os.environ["KUBECONFIG"] = env["GKX_E2E_KUBECONFIG"]
    return {
        "namespace": env.get("GKX_E2E_NAMESPACE", "default"),
        "image": env.get("GKX_E2E_IMAGE", "python:3.11-slim"),
        "kubectl": env.get("GKX_E2E_KUBECTL", "kubectl"),
        "kubeconfig": env["GKX_E2E_KUBECONFIG"],
    }


def leftovers(cluster, wait=30.0):
    """Names of the tool's objects still in the namespace after `wait` s."""
    import time
    deadline = time.time() + wait
    while True:
        out = subprocess.run([cluster["kubectl"], "--kubeconfig", cluster["kubeconfig"], "-n", cluster["namespace"],
                              "get", "jobs,pods,configmaps,networkpolicies", "-l", "app.kubernetes.io/managed-by=kubectl-sandbox-run",
                              "-o", "name"], capture_output=True, text=True, check=True).stdout.split()
        if not out or time.time() > deadline:
            return out
        time.sleep(0.3)
