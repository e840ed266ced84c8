#!/usr/bin/env bash
# CTest fixture e2e_gvisor, which every other e2e test requires: before any
# of them runs, a sandbox that asks for RuntimeClass `gvisor` must really
# run under gVisor, on the local cluster and on any cluster named by
# GKX_E2E_KUBECONFIG. If it does not, this fails and no e2e test runs: a
# suite that passes under runc proves nothing about the product's promise.
# The two most durable signs are demanded here (gVisor's kernel version and
# its boot lines in dmesg); e2e.gvisor_isolation checks all of them.
. "$(dirname "$0")/lib.sh"

sr -q "$E2E_DIR/gvisor_probe.py"
if [ "$rc" != 0 ]; then
    echo "GVISOR GUARD: the probe sandbox did not run (exit $rc); no e2e test can be trusted"
    cat "$WORK/out" "$WORK/err"
    exit 1
fi
cat "$WORK/out"
if ! grep -q '^sign kernel yes' "$WORK/out" || ! grep -q '^sign dmesg yes' "$WORK/out"; then
    cat <<MSG
GVISOR GUARD: a pod with runtimeClassName: gvisor in namespace $NS is NOT
running under gVisor (see the signs above). RuntimeClass gvisor must point
at a runsc handler (GKE Sandbox node pool, or the local cluster's runsc).
Refusing to run the e2e tests: they would prove nothing about isolation.
MSG
    exit 1
fi
expect_no_leftovers "guard probe"
echo "gVisor confirmed behind RuntimeClass gvisor"
finish
