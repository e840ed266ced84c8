#!/usr/bin/env bash
# The command line without a cluster: --help against its golden copy,
# --version, flag errors (kubectl's wording, exit 125), --dry-run output,
# and the completion scripts. Usage: test_cli.sh PLUGIN
set -uo pipefail
P=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() { printf 'FAIL: %s\n' "$*"; fails=$((fails + 1)); }
pass() { printf 'ok: %s\n' "$*"; }

# --help, byte for byte (regenerate with: PLUGIN --help > tests/cli/help.golden)
"$P" --help >"$work/help" 2>&1 && diff -u "$here/help.golden" "$work/help" && pass "--help matches help.golden" \
    || fail "--help differs from tests/cli/help.golden"
"$P" -h | cmp -s - "$work/help" && pass "-h is --help" || fail "-h differs"
# Every flag the parser knows is documented in --help.
for f in $(grep -o 'F("[a-z-]*"' "$here/../../plugin/options.c" | cut -d'"' -f2 | grep -vx help); do
    grep -q -- "--$f[=']" "$work/help" || grep -q -- "--$f=" "$work/help" || fail "--$f is not in --help"
done
pass "every flag is in --help"

# The subcommands' help, as `kubectl create --help`: its own text on
# stdout, nothing on stderr, exit 0, wherever the flag sits (regenerate
# with: PLUGIN pool [ACTION] --help > tests/cli/help-pool[-ACTION].golden).
expect_help() {
    local golden=$1; shift
    "$P" "$@" >"$work/sub.out" 2>"$work/sub.err"
    local rc=$?
    if [ "$rc" = 0 ] && [ ! -s "$work/sub.err" ] && diff -u "$here/$golden" "$work/sub.out"; then
        pass "$* -> exit 0, $golden"
    else
        fail "$*: exit $rc, stderr: $(cat "$work/sub.err")"
    fi
}
expect_help help-pool.golden pool --help
expect_help help-pool.golden pool -h
expect_help help-pool.golden --help pool
expect_help help-pool.golden -n x pool --help
for action in create status delete; do
    expect_help "help-pool-$action.golden" pool $action --help
    expect_help "help-pool-$action.golden" pool $action -h
    expect_help "help-pool-$action.golden" -n x pool --help $action
done
expect_help help-completion.golden completion --help
expect_help help-completion.golden completion -h
# Every flag a pool command's help lists is one that command takes: the
# parser lets it through to the cluster, of which there is none here.
for action in create status delete; do
    for f in $(grep -o -- '^ *\(-[a-z], \)\?--[a-z-]*=' "$here/help-pool-$action.golden" | grep -o -- '--[a-z-]*'); do
        v=x; case $f in --all|--wait|--quiet) v=true ;; --size) v=2 ;; --ttl) v=20m ;; --output) v=json ;; --network) v=none ;; esac
        HOME=$work/nohome KUBECONFIG= KUBERNETES_SERVICE_HOST= "$P" pool "$action" "$f=$v" >/dev/null 2>"$work/err"
        grep -q "no kubeconfig found" "$work/err" || fail "pool $action --help lists $f, which pool $action refuses: $(cat "$work/err")"
    done
done
pass "each pool command's help lists only flags it takes"

v=$("$P" --version)
[[ $v =~ ^kubectl-sandbox_run\ [0-9]+\.[0-9]+\.[0-9]+\ \(libgkexec\ [0-9]+\.[0-9]+\.[0-9]+\)$ ]] \
    && pass "--version: $v" || fail "--version: $v"

# expect_error STATUS TEXT ARGS...: refused before anything is sent.
expect_error() {
    local want=$1 text=$2; shift 2
    "$P" "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$text" "$work/err"; then pass "$* -> $rc, \"$text\""
    else fail "$*: exit $rc, stderr: $(cat "$work/err")"; fi
}
printf 'print(1)\n' >"$work/a.py"
cd "$work"
expect_error 125 "unknown flag: --colour" --colour a.py
expect_error 125 "unknown shorthand flag: -z" -z a.py
expect_error 125 "See 'kubectl sandbox-run --help' for usage." --colour a.py
# Pools: the subcommand, wherever kubectl's flags sit, and what it takes.
expect_error 125 "pool needs an action: kubectl sandbox-run pool create|status|delete" pool
expect_error 125 "pool needs an action" -n x pool start
expect_error 125 "pool create takes no script" pool create a.py
expect_error 125 "pool create takes the flags that shape a sandbox" pool create --keep
expect_error 125 "--all goes with pool delete" pool create --all
expect_error 125 "--size, --ttl, --all and --wait go with kubectl sandbox-run pool" --size 3 a.py
expect_error 125 "--size takes a number from 1 to 100" pool create --size 0
expect_error 125 "pool takes -o json" pool status -o yaml
expect_error 125 "flag needs an argument: --image" a.py --image
expect_error 125 "invalid duration for --timeout" --timeout soon a.py
expect_error 125 "no script given" --image x
expect_error 125 "pass arguments for the script after --" a.py extra
expect_error 125 "--dry-run must be \"none\" or \"client\"" --dry-run=server a.py
expect_error 125 "--network must be \"default\" or \"none\", not \"off\"" --network=off a.py
expect_error 125 "-o yaml prints manifests and needs --dry-run=client" -o yaml a.py
expect_error 125 "cannot read /nonexistent.py" /nonexistent.py
expect_error 125 "kubeconfig /nonexistent/config" --kubeconfig /nonexistent/config a.py
expect_error 125 "cpu \"lots\" is not a quantity" --kubeconfig "$here/../fixtures/kubeconfig/inline.yaml" --cpu lots a.py

# --dry-run: both spellings of a flag, and the namespace from -n.
"$P" --kubeconfig "$here/../fixtures/kubeconfig/inline.yaml" --dry-run=client -o json -n other \
    --memory 256Mi --timeout=90 a.py -- x >"$work/dry.json" 2>"$work/err" || fail "dry-run json: $(cat "$work/err")"
python3 - "$work/dry.json" <<'PY' && pass "dry-run json: namespace, limits, deadline, args" || fail "dry-run json content"
import json, sys
d = json.load(open(sys.argv[1]))
job = d["items"][1]
c = job["spec"]["template"]["spec"]["containers"][0]
assert d["kind"] == "List" and job["metadata"]["namespace"] == "other", job["metadata"]
assert c["resources"]["limits"]["memory"] == "256Mi" and c["resources"]["requests"]["memory"] == "64Mi"
assert job["spec"]["activeDeadlineSeconds"] == 90
assert c["command"][-2:] == ["/app/a.py", "x"], c["command"]
PY

# --dry-run=client needs no cluster and no kubeconfig, as kubectl's: with
# none at all it renders for -n, or for "default".
HOME=$work/nohome KUBECONFIG= KUBERNETES_SERVICE_HOST= "$P" --dry-run=client -o json a.py \
    >"$work/offline.json" 2>"$work/err" || fail "offline dry-run: $(cat "$work/err")"
HOME=$work/nohome KUBECONFIG= KUBERNETES_SERVICE_HOST= "$P" --dry-run=client -o yaml -n team-a a.py \
    >"$work/offline.yaml" 2>"$work/err" || fail "offline dry-run -n: $(cat "$work/err")"
python3 - "$work/offline.json" "$work/offline.yaml" <<'PY' && pass "offline dry-run: default, and -n" || fail "offline dry-run content"
import json, sys, yaml
d = json.load(open(sys.argv[1]))
assert [i["metadata"]["namespace"] for i in d["items"]] == ["default", "default"], d
y = yaml.safe_load(open(sys.argv[2]))
assert [i["metadata"]["namespace"] for i in y["items"]] == ["team-a", "team-a"], y
PY
# ...but a run still needs a cluster, and says so.
HOME=$work/nohome KUBECONFIG= KUBERNETES_SERVICE_HOST= "$P" a.py >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 125 ] && grep -q "no kubeconfig found" "$work/err" && pass "a run without a kubeconfig: 125" \
    || fail "a run without a kubeconfig: exit $rc, $(cat "$work/err")"

# --network=none: the policy comes first in the List, selects the Job's pod.
"$P" --kubeconfig "$here/../fixtures/kubeconfig/inline.yaml" --dry-run=client -o json --network none \
    a.py >"$work/np.json" 2>"$work/err" || fail "dry-run --network=none: $(cat "$work/err")"
python3 - "$work/np.json" <<'PY' && pass "dry-run --network=none: deny-all policy first" || fail "network policy"
import json, sys
d = json.load(open(sys.argv[1]))
kinds = [i["kind"] for i in d["items"]]
assert kinds == ["NetworkPolicy", "ConfigMap", "Job"], kinds
np, job = d["items"][0], d["items"][2]
label = "sandbox-run.gkexec.dev/run"
assert np["spec"]["podSelector"]["matchLabels"] == {label: job["metadata"]["name"]}
assert job["spec"]["template"]["metadata"]["labels"][label] == job["metadata"]["name"]
assert np["spec"]["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in np["spec"] and "egress" not in np["spec"]
PY

# A credential plugin that never answers (the fixture's `hang`: it loops
# and starts a child that ignores SIGTERM) ends the run within the request
# timeout, exit 125, with a message naming it, and nothing of it is left.
# Nothing listens at the server: the plugin runs before any connection.
marker=gkx-cli-hang-$$-$RANDOM
mkdir -p "$work/hang"
cat >"$work/hang/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $here/../fixtures/exec/plugin.sh
      args: [hang, $marker]
      env: [{name: GKX_TEST_DIR, value: "$work/hang"}]
      interactiveMode: Never
contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]
current-context: c
KUBECONFIG
# The processes whose command line carries the marker (never an empty one:
# that would match every process).
leftovers() { case $marker in gkx-cli-hang-?*) pgrep -f -- "$marker" || true ;; esac; }
for cold in "" --cold; do
    start=$(date +%s%N)
    timeout -k 2 20 "$P" --kubeconfig "$work/hang/kubeconfig" --timeout 10s --request-timeout 2s $cold a.py \
        >"$work/out" 2>"$work/err"
    rc=$? took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    sleep 0.3 # the killed child is reaped by whoever reaps orphans
    left=$(leftovers)
    if [ "$rc" = 125 ] && [ "$took_ms" -lt 3500 ] && [ -z "$left" ] &&
        grep -qF "the credential plugin \"$here/../fixtures/exec/plugin.sh\" did not answer within 2s, the request timeout" "$work/err"; then
        pass "a credential plugin that never answers${cold:+ ($cold)}: 125 after $took_ms ms, nothing left"
    else
        fail "a credential plugin that never answers${cold:+ ($cold)}: exit $rc after $took_ms ms, left: [$left], stderr: $(cat "$work/err")"
        for pid in $left; do
            grep -qF -- "$marker" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid"
        done
    fi
done

# Completion: valid shell, and it completes flags and values.
for sh in bash zsh; do
    "$P" completion $sh >"$work/c.$sh" && bash -n "$work/c.$sh" && pass "completion $sh parses" || fail "completion $sh"
done
got=$(bash -c "source '$work/c.bash'; COMP_WORDS=(kubectl-sandbox_run --mem); COMP_CWORD=1; _kubectl_sandbox_run; echo \${COMPREPLY[*]}")
[ "$got" = "--memory" ] && pass "completes --mem to --memory" || fail "completion of --mem: $got"
got=$(KUBECONFIG="$here/../fixtures/kubeconfig/inline.yaml" bash -c "source '$work/c.bash'; COMP_WORDS=(kubectl-sandbox_run --context ''); COMP_CWORD=2; _kubectl_sandbox_run; echo \${COMPREPLY[*]}")
if command -v kubectl >/dev/null; then
    [ "$got" = "dev no-namespace" ] && pass "completes contexts from the kubeconfig" || fail "contexts: $got"
fi
expect_error 125 "completion needs a shell" completion fish

if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
