#!/usr/bin/env bash
# Stop the local test cluster: the processes up.sh recorded (never by a
# broad name), the containerd shims of this containerd only, the kubelet's
# mounts, the bridge. Safe to run when nothing is running; also clears
# what a killed run left behind.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

# stop NAME...: TERM them all at once, wait up to 5 s together, then KILL.
stop() {
    local pids=() c pid
    for c in "$@"; do
        pid=$(cat "$PIDS/$c.pid" 2>/dev/null) || continue
        kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
        rm -f "$PIDS/$c.pid"
    done
    for _ in $(seq 1 50); do
        local left=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left=1; done
        [ "$left" = 0 ] && return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    return 0
}

rm -f "$CLUSTER_DIR/env"
# Kubernetes first, so that the kubelet stops creating containers; then the
# runtime under it.
stop kubelet kube-scheduler kube-controller-manager kube-apiserver etcd

# Kill what still runs in our containerd (pods of tests that were cut short)
# while it can still be asked, so no container outlives its shim.
if [ -S "$CTRD_SOCK" ] && [ -f "$PIDS/containerd.pid" ]; then
    for t in $(timeout 10 ctr --address "$CTRD_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
        timeout 5 ctr --address "$CTRD_SOCK" -n k8s.io tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1
    done
fi
# containerd shims carry their containerd's address on their command line.
if [ -d /proc ]; then
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
        case "$cmd" in
            *containerd-shim*"$CTRD_SOCK"*) kill -KILL "${p#/proc/}" 2>/dev/null ;;
        esac
    done
fi
stop containerd

# Unmount everything below our state directory, deepest first.
if [ -d "$CLUSTER_DIR" ]; then
    awk -v d="$CLUSTER_DIR" '$2 ~ "^"d {print $2}' /proc/mounts | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
fi
ip link del "$BRIDGE" 2>/dev/null || true
# Pod network namespaces live under containerd's state dir (see up.sh), so
# the unmount above released them.
if [ "${1:-}" = "--purge" ]; then
    rm -rf "$CLUSTER_DIR"
fi
exit 0
