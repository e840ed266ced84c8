#!/usr/bin/env bash
# The linux/arm64 release binary, cross-built by krew/release.sh, runs a
# script on the cluster under qemu-user: output, exit code and cleanup, as
# an arm64 user of the krew archive would see them. Skipped (77) where the
# cross toolchain or qemu-aarch64 is missing (tests/cluster/deps.sh
# installs both on amd64).
. "$(dirname "$0")/lib.sh"

root=$(cd "$E2E_DIR/../.." && pwd)
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null; then
    echo "skip: no qemu-aarch64 or arm64 cross compiler"
    exit 77
fi
(cd "$root" && RELEASE_PLATFORMS=linux/arm64 krew/release.sh "$WORK/dist" >/dev/null) || { fail "release.sh"; finish; }
tar -xzf "$WORK/dist/kubectl-sandbox_run-linux-arm64.tar.gz" -C "$WORK"
printf 'import sys\nprint("hello from the arm64 client")\nsys.exit(3)\n' >"$WORK/three.py"
qemu-aarch64 "$WORK/kubectl-sandbox_run" -n "$NS" --image "$IMAGE" "$WORK/three.py" >"$WORK/out" 2>"$WORK/err"
rc=$?
expect_rc 3 "arm64 binary under qemu"
expect_out "hello from the arm64 client
" "arm64 binary under qemu"
expect_no_leftovers "after the arm64 binary"
finish
