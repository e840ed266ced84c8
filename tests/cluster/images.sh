#!/usr/bin/env bash
# Build the two local images the test cluster needs, as docker-archive
# tarballs cached in $IMAGE_DIR: a minimal Debian with python3 (the script
# image) and a static pause program (the pod sandbox image). No registry is
# reachable from here, so nothing is pulled; up.sh imports them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
mkdir -p "$IMAGE_DIR"

# write_archive ROOTFS OUT.tar REF [REF...] [-- CMD...]
# One layer, a config whose rootfs.diff_ids names it, and a manifest.json:
# the docker-archive layout `ctr images import` reads.
write_archive() {
    local rootfs=$1 out=$2 cmd=$3; shift 3
    local tmp; tmp=$(mktemp -d)
    tar --numeric-owner -C "$rootfs" -cf "$tmp/layer.tar" .
    local diff; diff=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
    python3 - "$tmp" "$diff" "$cmd" "$@" <<'PY'
import json, sys
tmp, diff, cmd, refs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
config = {
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
               "Cmd": [cmd]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]},
}
json.dump(config, open(tmp + "/config.json", "w"))
json.dump([{"Config": "config.json", "RepoTags": refs, "Layers": ["layer.tar"]}],
          open(tmp + "/manifest.json", "w"))
PY
    tar -C "$tmp" -cf "$out.partial" manifest.json config.json layer.tar
    mv "$out.partial" "$out"
    rm -rf "$tmp"
}

if [ ! -s "$IMAGE_DIR/pause.tar" ]; then
    log "building the pause image"
    tmp=$(mktemp -d)
    mkdir -p "$tmp/root"
    printf '#include <unistd.h>\nint main(void) { for (;;) pause(); }\n' > "$tmp/pause.c"
    cc -static -O2 -o "$tmp/root/pause" "$tmp/pause.c"
    write_archive "$tmp/root" "$IMAGE_DIR/pause.tar" /pause "$PAUSE_IMAGE"
    rm -rf "$tmp"
fi

if [ ! -s "$IMAGE_DIR/python.tar" ]; then
    log "building the python image with debootstrap (about 2 minutes)"
    root=$IMAGE_DIR/python-rootfs
    rm -rf "$root"
    debootstrap --variant=minbase --include=python3-minimal bookworm "$root" \
        http://deb.debian.org/debian >"$IMAGE_DIR/debootstrap.log" 2>&1 || {
        tail -n 20 "$IMAGE_DIR/debootstrap.log" >&2
        die "debootstrap failed; see $IMAGE_DIR/debootstrap.log"
    }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
           "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale
    # The same image under the name the plugin uses by default, so that a run
    # that forgets --image still finds it locally instead of pulling.
    write_archive "$root" "$IMAGE_DIR/python.tar" python3 \
        "$PYTHON_IMAGE" docker.io/library/python:3.11-slim
    rm -rf "$root"
fi
log "images ready in $IMAGE_DIR"
