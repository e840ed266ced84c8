#!/usr/bin/env bash
# Build kube-apiserver, kube-controller-manager, kube-scheduler and kubelet
# from Debian's own `kubernetes` source package, once per machine. The
# binaries and the Go build cache live in $GKX_CACHE, outside the checkout,
# keyed by version; a second run finds them and returns at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
have_all() { for b in "${bins[@]}"; do [ -x "$K8S_BIN/$b" ] || return 1; done; }
if have_all; then
    log "Kubernetes $K8S_VERSION binaries cached in $K8S_BIN"
    exit 0
fi

# A deb-src entry for bookworm, so that `apt-get source` can find the package.
src_list=/etc/apt/sources.list.d/gkexec-deb-src.sources
if ! apt-get source --download-only --print-uris kubernetes >/dev/null 2>&1; then
    cat > "$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -q
fi

work=$GKX_CACHE/k8s-$K8S_VERSION/src
mkdir -p "$work"
if [ ! -f "$work/tree/Makefile" ]; then
    log "fetching Debian's kubernetes source package"
    rm -rf "$work"/*
    (cd "$work" && apt-get source --download-only -q kubernetes >/dev/null 2>&1 || \
        apt-get source --download-only kubernetes)
    orig=$(ls "$work"/kubernetes_*.orig.tar.* | head -n 1)
    mkdir -p "$work/tree"
    tar -xf "$orig" -C "$work/tree" --strip-components=1
fi

log "building ${bins[*]} (7 to 20 minutes on 2 cores the first time)"
export GOCACHE=$GKX_CACHE/go-build GOPATH=$GKX_CACHE/gopath GOFLAGS=-mod=vendor
export GO111MODULE=off GOTOOLCHAIN=local
start=$(date +%s)
cd "$work/tree"
# The upstream Makefile runs the code generators the plain `go build` lacks.
make WHAT="cmd/kube-apiserver cmd/kubelet cmd/kube-controller-manager cmd/kube-scheduler" \
    KUBE_GIT_VERSION="v$K8S_VERSION" KUBE_BUILD_PLATFORMS=linux/amd64 >"$work/build.log" 2>&1 || {
    tail -n 40 "$work/build.log" >&2
    die "Kubernetes build failed; the full log is $work/build.log"
}
mkdir -p "$K8S_BIN"
for b in "${bins[@]}"; do
    install -m 0755 "_output/local/bin/linux/amd64/$b" "$K8S_BIN/$b" 2>/dev/null || \
        install -m 0755 "_output/bin/$b" "$K8S_BIN/$b"
done
log "built in $(( $(date +%s) - start )) s"
