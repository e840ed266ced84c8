#!/usr/bin/env bash
# The sandbox is gVisor, proven from inside the pod by four independent
# signs (gvisor_probe.py): gVisor's kernel version, its boot lines in the
# kernel log, a syscall Linux serves and gVisor refuses, a /proc entry Linux
# has and gVisor not. The same probe under plain runc (a RuntimeClass of
# that name, as the local cluster has; GKX_E2E_CONTROL_RUNTIME_CLASS names
# another) must show none of them, so this test can fail.
. "$(dirname "$0")/lib.sh"

signs="kernel dmesg netlink_sock_diag proc_pagemap"
RC_CLASS=${GKX_E2E_RUNTIME_CLASS:-gvisor}

sr --runtime-class "$RC_CLASS" "$E2E_DIR/gvisor_probe.py"
expect_rc 0 "probe under $RC_CLASS"
cat "$WORK/out"
for s in $signs; do
    if grep -q "^sign $s yes" "$WORK/out"; then pass "gVisor sign $s"; else
        fail "gVisor sign $s missing under RuntimeClass $RC_CLASS: $(grep "^sign $s " "$WORK/out")"
    fi
done
expect_no_leftovers "after the gVisor probe"

control=${GKX_E2E_CONTROL_RUNTIME_CLASS:-runc}
if "$K" get runtimeclass "$control" >/dev/null 2>&1; then
    sr --runtime-class "$control" "$E2E_DIR/gvisor_probe.py"
    expect_rc 0 "probe under $control (negative control)"
    cat "$WORK/out"
    for s in $signs; do
        if grep -q "^sign $s no" "$WORK/out"; then pass "no gVisor sign $s under $control"; else
            fail "the probe saw sign $s under $control: it cannot tell gVisor from Linux"
        fi
    done
    expect_no_leftovers "after the control probe"
else
    echo "no RuntimeClass $control in this cluster: negative control skipped"
fi
finish
