#!/usr/bin/env bash
# Install the Debian packages the build, the unit tests, the local cluster
# and the release archives need. Idempotent; safe to run on a machine that
# has them all. On amd64 the linux/arm64 release archive is cross-built,
# so the arm64 architecture is added for its -dev packages, and qemu-user
# runs the result in the krew test.
set -euo pipefail

build_pkgs=(cmake make gcc g++ pkg-config libcurl4-openssl-dev libyaml-dev
            libcjson-dev libcmocka-dev python3 python3-yaml binutils
            clang libclang-rt-14-dev llvm-14 clang-tidy cppcheck valgrind)
cluster_pkgs=(etcd-server golang-go rsync containerd runc
              containernetworking-plugins debootstrap
              openssl iproute2 dpkg-dev ca-certificates curl
              python3-pytest python3-ipython python3-pip python3-wheel python3-setuptools
              python3-venv python3-nbclient python3-nbformat python3-ipykernel python3-kubernetes)

release_pkgs=()
if [ "$(dpkg --print-architecture)" = amd64 ]; then
    release_pkgs=(crossbuild-essential-arm64 libcurl4-openssl-dev:arm64 libyaml-dev:arm64
                  libcjson-dev:arm64 qemu-user)
fi

want=("${build_pkgs[@]}")
if [ "${1:-}" != "--build-only" ]; then
    want+=("${cluster_pkgs[@]}" "${release_pkgs[@]}")
    if [ ${#release_pkgs[@]} -gt 0 ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
    fi
fi

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# gVisor: runsc from bookworm-backports (release 2024-07-29; bookworm's own
# 2022 build is older than what CLUSTER.md was verified with). The suite
# gets its own sources entry; backports has pin priority 100, so nothing
# else is taken from it unless asked for by -t, as runsc alone is here.
if [ "${1:-}" != "--build-only" ]; then
    bpo=/etc/apt/sources.list.d/gkexec-backports.sources
    have=$(dpkg-query -W -f='${Version}' runsc 2>/dev/null || true)
    if [ -z "$have" ] || ! dpkg --compare-versions "$have" ge 0.0~20240729; then
        if [ ! -f "$bpo" ]; then
            cat >"$bpo" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends -t bookworm-backports runsc
    fi
fi

# kubectl 1.20 (Debian's kubernetes-client) is unpacked into the cache rather
# than installed: some images already ship another package owning
# /usr/bin/kubectl, and the tests want this exact version beside the cluster.
if [ "${1:-}" != "--build-only" ]; then
    . "$(dirname "$0")/lib.sh"
    if [ ! -x "$KUBECTL" ]; then
        tmp=$(mktemp -d)
        (cd "$tmp" && apt-get download -q kubernetes-client >/dev/null)
        mkdir -p "$GKX_CACHE/kubectl-1.20"
        dpkg-deb -x "$tmp"/kubernetes-client_*.deb "$GKX_CACHE/kubectl-1.20"
        rm -rf "$tmp"
    fi
fi
