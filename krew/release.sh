#!/usr/bin/env bash
# Build the krew release archives this machine can build and write
# krew/sandbox-run.yaml with their sha256. Each archive holds the plugin
# (libgkexec linked in statically), LICENSE and README.md.
#   krew/release.sh [OUTDIR [URL-PREFIX]]
# writes OUTDIR (default dist/) with the archive and sandbox-run.yaml; a
# release copies that manifest over krew/sandbox-run.yaml.
# Only linux/amd64 builds here: arm64 needs a cross toolchain and darwin a
# macOS one; a platform with no archive is left out of the manifest rather
# than listed with a made-up checksum.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
outdir=${1:-dist}
prefix=${2:-https://example.com/kubectl-sandbox-run/releases/download}
version=$(sed -n 's/^project(gkexec VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
os=linux
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac

cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF >/dev/null
cmake --build build-release -j "$(nproc)" >/dev/null
mkdir -p "$outdir"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp build-release/plugin/kubectl-sandbox_run LICENSE README.md "$stage/"
strip "$stage/kubectl-sandbox_run"
archive=$outdir/kubectl-sandbox_run-$os-$arch.tar.gz
# Reproducible: fixed order, owner and time.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$stage" -cf - \
    kubectl-sandbox_run LICENSE README.md | gzip -n >"$archive"
sha=$(sha256sum "$archive" | cut -d' ' -f1)

platforms="  - selector:
      matchLabels:
        os: $os
        arch: $arch
    uri: $prefix/v$version/$(basename "$archive")
    sha256: $sha
    bin: kubectl-sandbox_run
    files:
    - from: kubectl-sandbox_run
      to: .
    - from: LICENSE
      to: ."
python3 - "$version" "$platforms" "$outdir/sandbox-run.yaml" <<'PY'
import sys
tmpl = open("krew/sandbox-run.yaml.in").read()
open(sys.argv[3], "w").write(tmpl.replace("@VERSION@", sys.argv[1]).replace("@PLATFORMS@", sys.argv[2]))
PY
echo "$archive $sha"
