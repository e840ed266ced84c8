#!/usr/bin/env python3
"""The krew manifest against krew's own rules (its index validation): the
name matches the file, a semver version, descriptions, https URIs, sha256 as
64 lowercase hex that matches the archive the release script built, `bin`
and every `files.from` (LICENSE included) present in that archive, and no
two platforms whose selectors match the same os/arch.

Usage: test_krew.py ROOT   (runs krew/release.sh into a temporary folder)"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

import yaml

failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def selector_matches(sel, labels):
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in sel.get("matchExpressions") or []:
        val, op, values = labels.get(expr["key"]), expr["operator"], expr.get("values", [])
        if op == "In" and val not in values or op == "NotIn" and val in values \
                or op == "Exists" and val is None or op == "DoesNotExist" and val is not None:
            return False
    return True


def validate(path, archives_dir=None):
    name = os.path.basename(path)[: -len(".yaml")]
    m = yaml.safe_load(open(path))
    check(m.get("apiVersion") == "krew.googlecontainertools.github.com/v1alpha2", f"{path}: apiVersion")
    check(m.get("kind") == "Plugin", f"{path}: kind Plugin")
    check(m["metadata"]["name"] == name, f"{path}: metadata.name is the file's name ({name})")
    check(re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) is not None, f"{path}: a valid plugin name")
    spec = m["spec"]
    check(re.fullmatch(r"v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?", spec.get("version", "")) is not None,
          f"{path}: version {spec.get('version')} is v-prefixed semver")
    check(bool(spec.get("shortDescription")) and len(spec["shortDescription"]) <= 255, f"{path}: shortDescription")
    check(bool(spec.get("description")), f"{path}: description")
    check("gvisor" in spec.get("caveats", "").lower() and "GKE Sandbox" in spec.get("caveats", ""),
          f"{path}: caveats name the GKE Sandbox requirement")
    platforms = spec.get("platforms") or []
    check(len(platforms) > 0, f"{path}: at least one platform")
    for p in platforms:
        check(p.get("uri", "").startswith("https://"), f"{path}: uri {p.get('uri')} is https")
        check(re.fullmatch(r"[0-9a-f]{64}", p.get("sha256", "")) is not None, f"{path}: sha256 is 64 lowercase hex")
        check(bool(p.get("bin")), f"{path}: bin set")
        check(bool(p.get("files")), f"{path}: files set")
        froms = [f["from"] for f in p.get("files") or []]
        check("LICENSE" in froms, f"{path}: the LICENSE is installed")
        if archives_dir:
            archive = os.path.join(archives_dir, os.path.basename(p["uri"]))
            check(os.path.exists(archive), f"archive {os.path.basename(archive)} was built")
            if os.path.exists(archive):
                digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
                check(digest == p["sha256"], f"sha256 of {os.path.basename(archive)} matches the manifest")
                names = set(tarfile.open(archive).getnames())
                check(p["bin"] in names, f"bin {p['bin']} is in the archive")
                for f in froms:
                    check(f in names, f"files.from {f} is in the archive")
    # No two platforms may match the same os/arch.
    for os_ in ("linux", "darwin", "windows"):
        for arch in ("amd64", "arm64", "386", "arm"):
            hits = [i for i, p in enumerate(platforms) if selector_matches(p["selector"], {"os": os_, "arch": arch})]
            check(len(hits) <= 1, f"{path}: at most one platform for {os_}/{arch}")


def main():
    root = sys.argv[1]
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([os.path.join(root, "krew", "release.sh"), out], check=True, cwd=root,
                       stdout=subprocess.DEVNULL)
        validate(os.path.join(out, "sandbox-run.yaml"), out)
        # Each archived binary runs (arm64 under qemu-user), tells its
        # version and renders a run's manifests.
        platforms = [p["selector"]["matchLabels"]["arch"]
                     for p in yaml.safe_load(open(os.path.join(out, "sandbox-run.yaml")))["spec"]["platforms"]]
        check(platforms == ["amd64", "arm64"], f"the release builds linux amd64 and arm64: {platforms}")
        for arch in platforms:
            d = os.path.join(out, arch)
            with tarfile.open(os.path.join(out, f"kubectl-sandbox_run-linux-{arch}.tar.gz")) as t:
                t.extractall(d)
            binary = os.path.join(d, "kubectl-sandbox_run")
            with open(binary, "rb") as f:
                head = f.read(20)
            machine = {0x3E: "amd64", 0xB7: "arm64"}.get(int.from_bytes(head[18:20], "little"))
            check(head[:4] == b"\x7fELF" and machine == arch, f"{arch}: the binary is ELF for {machine}")
            run = [binary] if arch == "amd64" else ["qemu-aarch64", binary]
            v = subprocess.run(run + ["--version"], capture_output=True, text=True)
            check(v.returncode == 0 and "libgkexec" in v.stdout, f"{arch}: the archived binary runs: {v.stdout.strip()}")
            d = subprocess.run(run + ["--kubeconfig", os.path.join(root, "tests/fixtures/kubeconfig/inline.yaml"),
                                      "--dry-run=client", "-o", "json", os.path.join(root, "plugin/examples/hello.py")],
                               capture_output=True, text=True)
            kinds = [i["kind"] for i in json.loads(d.stdout)["items"]] if d.returncode == 0 else d.stderr
            check(kinds == ["ConfigMap", "Job"], f"{arch}: --dry-run renders the ConfigMap and the Job")
    validate(os.path.join(root, "krew", "sandbox-run.yaml"))
    print(f"{len(failures)} check(s) failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
