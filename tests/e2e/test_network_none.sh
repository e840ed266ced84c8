#!/usr/bin/env bash
# --network=none: a deny-all NetworkPolicy exists while the script runs,
# selects exactly its pod, is owned by its Job, and is gone afterwards; a
# user who may not create NetworkPolicies gets a clear error and nothing is
# left. Whether traffic is really blocked depends on the cluster's network
# plugin: set GKX_E2E_NETPOL_ENFORCED=1 on a cluster that enforces
# NetworkPolicy (Calico, Cilium, GKE Dataplane V2) to assert it too. The
# local cluster's bridge CNI does not enforce it.
. "$(dirname "$0")/lib.sh"

# The script tries the API server's Service address, then lingers so the
# test can look at the policy while the pod runs.
cat >"$WORK/net.py" <<'PY'
import os, socket, time
host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT")
try:
    socket.create_connection((host, int(port)), timeout=3).close()
    print("egress: open", flush=True)
except Exception as e:
    print("egress: blocked", flush=True)
time.sleep(6)
print("done")
PY

sr --network=none --timeout 60s "$WORK/net.py" &
bg=$!
# While it runs: one policy of ours, the Job's, selecting the Job's pod.
policy="" job_uid="" pod_label=""
for _ in $(seq 1 150); do
    policy=$("$K" -n "$NS" get networkpolicies -l "$SELECTOR" -o json 2>/dev/null)
    pod_label=$("$K" -n "$NS" get pods -l "$SELECTOR" \
        -o 'jsonpath={.items[0].metadata.labels.sandbox-run\.gkexec\.dev/run}' 2>/dev/null)
    job_uid=$("$K" -n "$NS" get jobs -l "$SELECTOR" -o 'jsonpath={.items[0].metadata.uid}' 2>/dev/null)
    printf '%s' "$policy" >"$WORK/policy.json"
    [ -n "$pod_label" ] && [ -n "$job_uid" ] && grep -q NetworkPolicy "$WORK/policy.json" && break
    sleep 0.2
done
python3 - "$job_uid" "$pod_label" "$WORK/policy.json" <<'PY' && pass "policy: deny-all, owned by the Job, selects its pod" \
    || fail "policy while running: $policy"
import json, sys
job_uid, pod_label = sys.argv[1], sys.argv[2]
items = json.load(open(sys.argv[3]))["items"]
assert len(items) == 1, items
p = items[0]
spec = p["spec"]
assert spec["podSelector"] == {"matchLabels": {"sandbox-run.gkexec.dev/run": pod_label}}, spec
assert sorted(spec["policyTypes"]) == ["Egress", "Ingress"] and not spec.get("ingress") and not spec.get("egress"), spec
refs = p["metadata"]["ownerReferences"]
assert [(r["kind"], r["uid"]) for r in refs] == [("Job", job_uid)], refs
PY
# Its code went over the exec, sent after the policy existed: no ConfigMap.
cms=$("$K" -n "$NS" get configmaps -l "$SELECTOR" -o name 2>&1)
[ -z "$cms" ] && pass "no ConfigMap for an exec'd run" || fail "ConfigMaps: $cms"
wait "$bg"; rc=$?
expect_rc 0 "--network=none"
grep -q '^done$' "$WORK/out" && pass "--network=none: the script ran to its end" || fail "output: $(cat "$WORK/out")"
if [ "${GKX_E2E_NETPOL_ENFORCED:-}" = 1 ]; then
    grep -q 'egress: blocked' "$WORK/out" && pass "egress blocked" || fail "egress not blocked: $(cat "$WORK/out")"
else
    echo "note: this cluster's network plugin is not known to enforce NetworkPolicy; the script saw $(grep egress "$WORK/out")"
fi
expect_no_leftovers "after --network=none"

# A user allowed to run sandboxes but not to create NetworkPolicies.
SA=gkexec-e2e-nonet-$$
trap '"$K" -n "$NS" delete serviceaccount,role,rolebinding "$SA" --ignore-not-found >/dev/null 2>&1; rm -rf "$WORK"' EXIT
"$K" -n "$NS" create serviceaccount "$SA" >/dev/null
"$K" -n "$NS" create role "$SA" --verb=create,get,list,watch,delete \
    --resource=jobs.batch,configmaps,pods,pods/log,events >/dev/null
"$K" -n "$NS" create rolebinding "$SA" --role="$SA" --serviceaccount="$NS:$SA" >/dev/null
sa_token "$SA" || fail "no token for $SA"
cat >"$WORK/nonet.yaml" <<KC
apiVersion: v1
clusters: [{name: c, cluster: {server: "$(view '{.clusters[0].cluster.server}')", certificate-authority-data: "$(view '{.clusters[0].cluster.certificate-authority-data}')"}}]
users: [{name: u, user: {token: "$SA_TOKEN"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: "$NS"}}]
current-context: c
KC
# Nor to exec into pods: the run starts over as a Job whose container runs
# the script itself (its PID 1 is the sh that runs the interpreter).
printf 'print("ran", open("/proc/1/cmdline").read().split("\\0")[0])\n' >"$WORK/one.py"
KUBECONFIG=$WORK/nonet.yaml sr -v 1 "$WORK/one.py"
expect_rc 0 "the restricted user can run sandboxes"
expect_out "ran /bin/sh
" "without pods/exec the container runs the script itself"
expect_err_contains "no right to exec into pods" "without pods/exec"
expect_no_leftovers "after a run without pods/exec"
KUBECONFIG=$WORK/nonet.yaml sr --network=none "$WORK/one.py"
expect_rc 125 "--network=none without permission"
expect_err_contains 'creating NetworkPolicy: ' "--network=none without permission"
expect_err_contains 'cannot create resource "networkpolicies"' "--network=none without permission"
expect_no_leftovers "after a forbidden NetworkPolicy"
finish
