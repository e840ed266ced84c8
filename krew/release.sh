#!/usr/bin/env bash
# Build the krew release archives and write a manifest with their sha256.
# Each archive holds the plugin (libgkexec linked in statically), LICENSE
# and README.md.
#   krew/release.sh [OUTDIR [URL-PREFIX]]
# writes OUTDIR (default dist/) with the archives and sandbox-run.yaml; a
# release copies that manifest over krew/sandbox-run.yaml.
#
# Platforms: linux/amd64 natively and linux/arm64 cross-built with
# krew/linux-arm64.cmake (Debian's crossbuild-essential-arm64 and the arm64
# -dev packages; tests/cluster/deps.sh installs them). RELEASE_PLATFORMS
# picks fewer, e.g. RELEASE_PLATFORMS=linux/amd64. darwin is not built: it
# needs Apple's SDK and linker, which no Debian machine has, and a platform
# with no archive is left out of the manifest rather than listed with a
# made-up checksum.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
outdir=${1:-dist}
prefix=${2:-https://example.com/kubectl-sandbox-run/releases/download}
version=$(sed -n 's/^project(gkexec VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
platforms_wanted=${RELEASE_PLATFORMS:-linux/amd64 linux/arm64}
host=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $host in x86_64) host=amd64 ;; aarch64) host=arm64 ;; esac

mkdir -p "$outdir"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
manifest_platforms=""

# build OS ARCH: build-release-OS-ARCH, then the archive and its manifest entry.
build() {
    local os=$1 arch=$2 bdir=build-release-$1-$2 archive sha
    local args=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DBUILD_TESTING=OFF)
    if [ "$arch" != "$host" ]; then
        [ -f "krew/$os-$arch.cmake" ] || { echo "release: cannot build $os/$arch on $host" >&2; exit 1; }
        command -v aarch64-linux-gnu-gcc >/dev/null && [ -f /usr/lib/aarch64-linux-gnu/pkgconfig/libcurl.pc ] || {
            echo "release: $os/$arch needs crossbuild-essential-arm64 and libcurl4-openssl-dev:arm64" \
                 "libyaml-dev:arm64 libcjson-dev:arm64 (dpkg --add-architecture arm64 first)," \
                 "or RELEASE_PLATFORMS=$os/$host" >&2
            exit 1
        }
        args+=(-DCMAKE_TOOLCHAIN_FILE="$root/krew/$os-$arch.cmake")
    fi
    cmake -S . -B "$bdir" "${args[@]}" >/dev/null
    cmake --build "$bdir" -j "$(nproc)" --target kubectl-sandbox_run >/dev/null
    rm -rf "${stage:?}"/*
    cp "$bdir/plugin/kubectl-sandbox_run" LICENSE README.md "$stage/"
    # The strip of the build's toolchain (the toolchain file names the cross one).
    "$(sed -n 's/^CMAKE_STRIP:FILEPATH=//p' "$bdir/CMakeCache.txt")" "$stage/kubectl-sandbox_run"
    archive=$outdir/kubectl-sandbox_run-$os-$arch.tar.gz
    # Reproducible: fixed order, owner and time.
    tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$stage" -cf - \
        kubectl-sandbox_run LICENSE README.md | gzip -n >"$archive"
    sha=$(sha256sum "$archive" | cut -d' ' -f1)
    manifest_platforms+="  - selector:
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
      to: .
"
    echo "$archive $sha"
}

for p in $platforms_wanted; do
    build "${p%/*}" "${p#*/}"
done
python3 - "$version" "${manifest_platforms%$'\n'}" "$outdir/sandbox-run.yaml" <<'PY'
import sys
tmpl = open("krew/sandbox-run.yaml.in").read()
open(sys.argv[3], "w").write(tmpl.replace("@VERSION@", sys.argv[1]).replace("@PLATFORMS@", sys.argv[2]))
PY
