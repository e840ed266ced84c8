#!/usr/bin/env bash
# Stop the local test cluster: the processes up.sh recorded (never by a
# broad name), the containerd shims of this containerd only, the kubelet's
# mounts, the bridge. Safe to run when nothing is running; also clears
# what a killed run left behind.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

stop_pid() {
    local f=$1 pid
    pid=$(cat "$f" 2>/dev/null) || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$f"
}

rm -f "$CLUSTER_DIR/env"
# Reverse order of start: kubelet first so it stops creating containers.
for c in kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
    [ -f "$PIDS/$c.pid" ] && stop_pid "$PIDS/$c.pid"
done

# containerd shims carry their containerd's address on their command line.
if [ -d /proc ]; then
    for p in /proc/[0-9]*; do
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
        case "$cmd" in
            *containerd-shim*"$CTRD_SOCK"*) kill -KILL "${p#/proc/}" 2>/dev/null ;;
        esac
    done
fi
[ -f "$PIDS/containerd.pid" ] && stop_pid "$PIDS/containerd.pid"

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
