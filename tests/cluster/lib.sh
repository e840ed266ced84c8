# Shared settings for the local test cluster scripts. Sourced, not run.
# Everything slow to build (Kubernetes binaries, images) is cached outside the
# checkout, keyed by version, so a repeat run on the same machine is fast.

K8S_VERSION=1.20.2
GKX_CACHE=${GKX_CACHE:-/var/cache/gkexec}
K8S_BIN=$GKX_CACHE/k8s-$K8S_VERSION/bin
IMAGE_DIR=$GKX_CACHE/images
KUBECTL=$GKX_CACHE/kubectl-1.20/usr/bin/kubectl
# Runtime state of a running cluster: certificates, data, logs, pid files.
CLUSTER_DIR=${GKX_CLUSTER_DIR:-/var/lib/gkexec-cluster}

# Local images, referenced by a tag that is already present so that the
# runtime never tries a registry (pull policy IfNotPresent).
PYTHON_IMAGE=localhost/gkexec/python:3.11-slim
PAUSE_IMAGE=localhost/gkexec/pause:1

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$*" >&2; exit 1; }
