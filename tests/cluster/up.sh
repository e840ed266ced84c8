#!/usr/bin/env bash
# Start a real one-node Kubernetes cluster on loopback: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd (runc) and kubelet.
# Prints nothing on stdout but the path of the admin kubeconfig; writes
# $CLUSTER_DIR/env for the tests. Exit 77 when this machine cannot run it
# (not root, or the binaries are missing), so test runners can skip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

rm -f "$CLUSTER_DIR/env" # a stale one would point the tests at a dead cluster
[ "$(id -u)" = 0 ] || { log "the local cluster needs root; skipping"; exit 77; }
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet; do
    [ -x "$K8S_BIN/$b" ] || { log "$K8S_BIN/$b missing: run tests/cluster/build-k8s.sh"; exit 77; }
done
for b in etcd containerd runc runsc "$KUBECTL" openssl; do
    command -v "$b" >/dev/null || { log "$b missing: run tests/cluster/deps.sh"; exit 77; }
done
[ -s "$IMAGE_DIR/python.tar" ] && [ -s "$IMAGE_DIR/pause.tar" ] || {
    log "images missing: run tests/cluster/images.sh"; exit 77; }

started=$(date +%s%N)
"$here/down.sh" --purge
mkdir -p "$CLUSTER_DIR" "$PKI" "$PIDS" "$LOGS" "$CTRD" "$KUBELET_ROOT" "$CLUSTER_DIR/cni"
chmod 700 "$CLUSTER_DIR"
NODE=$(hostname)

# The node's name must resolve to loopback: the apiserver reaches the
# kubelet by hostname (see --kubelet-preferred-address-types).
if ! getent hosts "$NODE" | grep -q '^127\.'; then
    printf '127.0.0.1 %s # added by gkexec tests/cluster/up.sh\n' "$NODE" >>/etc/hosts
fi

# ---- certificates ----
cd "$PKI"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=gkexec-test-ca" 2>/dev/null
# cert NAME SUBJECT [SANS]: a key and a certificate signed by the test CA.
cert() {
    local name=$1 subj=$2 sans=${3:-}
    openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" -subj "$subj" 2>/dev/null
    if [ -n "$sans" ]; then
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$sans" >"$name.ext"
    else
        printf 'extendedKeyUsage=clientAuth\n' >"$name.ext"
    fi
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
        -extfile "$name.ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
}
cert apiserver "/CN=kube-apiserver" \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:127.0.0.1,IP:10.0.0.1"
cert admin "/O=system:masters/CN=gkexec-admin"
cert controller-manager "/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
cert kubelet-client "/O=system:nodes/CN=system:node:$NODE"
cert kubelet-serving "/CN=$NODE" "DNS:$NODE,DNS:localhost,IP:127.0.0.1"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert restricted "/CN=gkexec-restricted"
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null

# kubeconfig NAME CERTNAME: a kubeconfig with everything inline.
kubeconfig() {
    cat >"$CLUSTER_DIR/$1.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: gkexec-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$2.crt")
    client-key-data: $(base64 -w0 "$PKI/$2.key")
contexts:
- name: gkexec-local
  context:
    cluster: gkexec-local
    user: $1
    namespace: default
current-context: gkexec-local
KC
    chmod 600 "$CLUSTER_DIR/$1.kubeconfig"
}
kubeconfig admin admin
kubeconfig controller-manager controller-manager
kubeconfig scheduler scheduler
kubeconfig kubelet kubelet-client
kubeconfig restricted restricted
cd "$CLUSTER_DIR"

# ---- etcd ----
start etcd etcd --data-dir "$CLUSTER_DIR/etcd" --name gkexec \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "gkexec=http://127.0.0.1:$((ETCD_PORT + 1))"
wait_for etcd 30 etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

# ---- kube-apiserver ----
GATES=TTLAfterFinished=true
start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
    --secure-port "$API_PORT" --insecure-port 0 \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --api-audiences https://kubernetes.default.svc \
    --service-cluster-ip-range 10.0.0.0/24 \
    --authorization-mode Node,RBAC \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types Hostname \
    --allow-privileged=false \
    --feature-gates "$GATES"
wait_for kube-apiserver 60 kube-apiserver kc get --raw /readyz

# ---- controller-manager and scheduler ----
start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" \
    --root-ca-file "$PKI/ca.crt" \
    --leader-elect=false --port 0 --secure-port 0 \
    --feature-gates "$GATES"
start kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$CLUSTER_DIR/scheduler.kubeconfig" \
    --leader-elect=false --port 0 --secure-port 0

# ---- containerd ----
mkdir -p "$CLUSTER_DIR/cni-ipam"
cat >"$CLUSTER_DIR/cni/10-gkexec.conflist" <<CNI
{
  "cniVersion": "0.4.0",
  "name": "gkexec",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": false, "ipMasq": false,
     "ipam": {"type": "host-local", "dataDir": "$CLUSTER_DIR/cni-ipam",
              "ranges": [[{"subnet": "10.234.0.0/24"}]]}},
    {"type": "loopback"}
  ]
}
CNI
cat >"$CTRD/config.toml" <<TOML
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    # RuntimeClass gvisor (handler runsc): gVisor, driven by the runc shim
    # through runsc-shim-wrapper (see that file for why).
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc.options]
        BinaryName = "$here/runsc-shim-wrapper"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DIR/cni"
TOML
start containerd containerd --config "$CTRD/config.toml"
ctr() { command ctr --address "$CTRD_SOCK" -n k8s.io "$@"; }
wait_for containerd 30 containerd ctr version
ctr images import --no-unpack=false "$IMAGE_DIR/pause.tar" >/dev/null
ctr images import "$IMAGE_DIR/python.tar" >/dev/null

# ---- kubelet ----
cat >"$CLUSTER_DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $KUBELET_PORT
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$PKI/ca.crt"}
authorization: {mode: Webhook}
tlsCertFile: "$PKI/kubelet-serving.crt"
tlsPrivateKeyFile: "$PKI/kubelet-serving.key"
cgroupDriver: cgroupfs
failSwapOn: false
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: "1%", nodefs.available: "1%", imagefs.available: "1%"}
# A memory-backed emptyDir becomes a tmpfs of its sizeLimit, as on every
# kubelet since 1.22 (alpha and off in 1.20): a sandbox's /tmp is full at
# 64 MiB (ENOSPC), where a 1.20 default lets it grow to the memory limit.
featureGates: {SizeMemoryBackedVolumes: true}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
# The kubelet's own API client: current kubelets' defaults (1.27 raised
# them from 1.20's 5 and 10). At 5 per second, ConfigMap volumes of pods
# started back to back waited for their watch past the kubelet's 1 s limit
# and were retried 2 s later: a ConfigMap-carried run then took 3.5 s
# instead of 1.5 s, one time in six.
kubeAPIQPS: 50
kubeAPIBurst: 100
# Its events likewise (1.20: 5 and 10). A run execs its code when the
# kubelet records the container Started; at 5 per second, a pool's
# replacements starting beside it delayed that event by seconds.
eventRecordQPS: 50
eventBurst: 100
YAML
start kubelet "$K8S_BIN/kubelet" \
    --config "$CLUSTER_DIR/kubelet.yaml" \
    --kubeconfig "$CLUSTER_DIR/kubelet.kubeconfig" \
    --container-runtime remote \
    --container-runtime-endpoint "unix://$CTRD_SOCK" \
    --root-dir "$KUBELET_ROOT" \
    --cert-dir "$PKI" \
    --node-labels sandbox.gke.io/runtime=gvisor \
    --register-with-taints sandbox.gke.io/runtime=gvisor:NoSchedule
node_ready() {
    kc get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -qx True
}
wait_for "node $NODE" 90 kubelet node_ready
alive kube-controller-manager || { tail -n 25 "$LOGS/kube-controller-manager.log" >&2; die "controller-manager exited"; }
alive kube-scheduler || { tail -n 25 "$LOGS/kube-scheduler.log" >&2; die "scheduler exited"; }

# ---- cluster objects the tests rely on ----
kc apply -f - >/dev/null <<YAML
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: gvisor
handler: runsc
---
# runc under its own name: only the guard's negative control asks for it,
# to show that the gVisor probe fails where gVisor is absent.
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: runc
handler: runc
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: gkexec-restricted-view
  namespace: default
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: gkexec-restricted}
YAML
# A Job created before the default ServiceAccount exists is refused.
wait_for "the default ServiceAccount" 60 kube-controller-manager kc -n default get serviceaccount default

cat >"$CLUSTER_DIR/env" <<ENV
GKX_E2E_KUBECONFIG=$ADMIN_KUBECONFIG
GKX_E2E_RESTRICTED_KUBECONFIG=$CLUSTER_DIR/restricted.kubeconfig
GKX_E2E_IMAGE=$PYTHON_IMAGE
GKX_E2E_NAMESPACE=default
GKX_E2E_KUBECTL=$KUBECTL
ENV
log "cluster up in $(( ($(date +%s%N) - started) / 1000000 )) ms; kubeconfig: $ADMIN_KUBECONFIG"
echo "$ADMIN_KUBECONFIG"
