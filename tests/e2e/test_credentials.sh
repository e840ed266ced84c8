#!/usr/bin/env bash
# The same run through every kind of credential a kubeconfig can hold:
# inline client certificates, certificate files by relative path, a token,
# a token file, exec plugins speaking v1 and v1beta1, and a merged KUBECONFIG
# of three files with --context picking the second, HTTP basic auth. And an
# exec credential that the server refuses and the plugin will not renew: a
# clear error. Verbose runs never show a token, password or exec credential.
. "$(dirname "$0")/lib.sh"

printf 'print("ran")\n' >"$WORK/ran.py"
run_ok() { # run_ok WHAT [ENV=VALUE...] -- PLUGIN-ARGS...
    local what=$1; shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" "$PLUGIN" -n "$NS" --image "$IMAGE" "$@" "$WORK/ran.py" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    expect_rc 0 "$what"
    expect_out "ran
" "$what"
}

server=$(view '{.clusters[0].cluster.server}')
ca_data=$(view '{.clusters[0].cluster.certificate-authority-data}')
cert_data=$(view '{.users[0].user.client-certificate-data}')
key_data=$(view '{.users[0].user.client-key-data}')

# kubeconfig FILE USER-YAML: one cluster (ours, CA by file), one user.
mkdir -p "$WORK/rel/pki"
printf '%s' "$ca_data" | base64 -d >"$WORK/rel/pki/ca.crt"
kubeconfig() {
    cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: "$server", certificate-authority: pki/ca.crt}
users:
- name: e2e
  user:
$2
contexts:
- name: e2e
  context: {cluster: e2e, user: e2e, namespace: "$NS"}
current-context: e2e
KC
}

# (a) inline client certificate: the admin kubeconfig itself
if [ -n "$cert_data" ]; then
    run_ok "inline client certificate" --
    # (b) the same certificate as files, by paths relative to the kubeconfig
    printf '%s' "$cert_data" | base64 -d >"$WORK/rel/pki/client.crt"
    printf '%s' "$key_data" | base64 -d >"$WORK/rel/pki/client.key"
    kubeconfig "$WORK/rel/config" "    client-certificate: pki/client.crt
    client-key: pki/client.key"
    pushd / >/dev/null  # relative to the kubeconfig, not to the working directory
    run_ok "certificate files by relative path" KUBECONFIG="$WORK/rel/config" --
    popd >/dev/null
else
    echo "skip: this kubeconfig has no client certificate for cases (a) and (b)"
fi

# A ServiceAccount allowed to run sandboxes, for the token cases.
trap 'stop_proxy; cleanup_runner; rm -rf "$WORK"' EXIT
runner_token || { fail "no token for a ServiceAccount"; finish; }
token=$RUNNER_TOKEN

# (c) a token
kubeconfig "$WORK/rel/token.yaml" "    token: $token"
run_ok "token" KUBECONFIG="$WORK/rel/token.yaml" --
# Nothing secret in a verbose run: -v=6 traces every request.
KUBECONFIG="$WORK/rel/token.yaml" "$PLUGIN" -v 6 -n "$NS" --image "$IMAGE" "$WORK/ran.py" >"$WORK/out" 2>"$WORK/err"
grep -q "POST https://" "$WORK/err" && pass "-v=6 traces the requests" || fail "-v=6 shows no requests"
grep -qF "$token" "$WORK/out" "$WORK/err" && fail "the token appears in a -v=6 run" || pass "no token in a -v=6 run"

# (d) a token file, relative
printf '%s\n' "$token" >"$WORK/rel/sa-token"
kubeconfig "$WORK/rel/token-file.yaml" "    tokenFile: sa-token"
run_ok "token file" KUBECONFIG="$WORK/rel/token-file.yaml" --

# (e) exec plugins, v1 and v1beta1, found by relative path
cat >"$WORK/rel/creds.sh" <<'SH'
#!/bin/sh
# $1: the API version to answer with. The token comes from a file beside us.
here=$(dirname "$0")
case "$KUBERNETES_EXEC_INFO" in *"\"apiVersion\":\"$1\""*) ;; *) echo "bad exec info" >&2; exit 2;; esac
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2999-01-01T00:00:00Z"}}' \
    "$1" "$(cat "$here/sa-token")"
SH
chmod +x "$WORK/rel/creds.sh"
for v in v1 v1beta1; do
    kubeconfig "$WORK/rel/exec-$v.yaml" "    exec:
      apiVersion: client.authentication.k8s.io/$v
      command: ./creds.sh
      args: [client.authentication.k8s.io/$v]
      interactiveMode: Never"
    run_ok "exec plugin $v" KUBECONFIG="$WORK/rel/exec-$v.yaml" -- -v 6
    grep -qF "$token" "$WORK/out" "$WORK/err" && fail "the exec credential appears in a -v=6 run" \
        || pass "no exec credential in a -v=6 run ($v)"
done

# (f) three files merged; --context picks the second file's context
cat >"$WORK/rel/a.yaml" <<KC
apiVersion: v1
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: first, context: {cluster: nowhere, user: merged}}]
current-context: first
KC
cat >"$WORK/rel/b.yaml" <<KC
apiVersion: v1
clusters: [{name: e2e, cluster: {server: "$server", certificate-authority: pki/ca.crt}}]
contexts: [{name: second, context: {cluster: e2e, user: merged, namespace: "$NS"}}]
current-context: second
KC
cat >"$WORK/rel/c.yaml" <<KC
apiVersion: v1
users: [{name: merged, user: {tokenFile: sa-token}}]
KC
run_ok "merged KUBECONFIG, --context second" \
    KUBECONFIG="$WORK/rel/a.yaml:$WORK/rel/b.yaml:$WORK/rel/c.yaml" -- --context second

# (g) an expired credential the plugin refuses to renew
cat >"$WORK/rel/stale.sh" <<'SH'
#!/bin/sh
n=$(( $(cat "$(dirname "$0")/stale.calls" 2>/dev/null || echo 0) + 1 ))
echo "$n" >"$(dirname "$0")/stale.calls"
if [ "$n" = 1 ]; then
    printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"expired-long-ago"}}'
else
    echo "your credential expired; run 'example-cloud login'" >&2
    exit 1
fi
SH
chmod +x "$WORK/rel/stale.sh"
kubeconfig "$WORK/rel/stale.yaml" "    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./stale.sh
      interactiveMode: Never"
KUBECONFIG="$WORK/rel/stale.yaml" "$PLUGIN" -n "$NS" --image "$IMAGE" "$WORK/ran.py" >"$WORK/out" 2>"$WORK/err"
rc=$?
expect_rc 125 "refused exec credential"
expect_err_contains "failed with exit code 1: your credential expired; run 'example-cloud login'" \
    "refused exec credential"
grep -q expired-long-ago "$WORK/err" && fail "the token appears in the error" || pass "no token in the error"
# (h) HTTP basic authentication. No API server since 1.19 takes it, so the
# fault proxy plays one: it accepts e2e-user with a random password and
# forwards as the runner. A -v=9 run must show neither the password nor the
# Authorization value that carries it; a wrong password is refused (401)
# and the error does not repeat it either.
password="pw-$(openssl rand -hex 16)"
BASIC_AUTH_FILE=$WORK/basic-auth
printf 'e2e-user:%s:%s\n' "$password" "$token" >"$BASIC_AUTH_FILE"
start_proxy
basic_kc() { # FILE PASSWORD
    cat >"$1" <<KC
apiVersion: v1
clusters: [{name: p, cluster: {server: "$PROXY_URL", certificate-authority: proxy.crt}}]
users: [{name: u, user: {username: e2e-user, password: "$2"}}]
contexts: [{name: p, context: {cluster: p, user: u, namespace: "$NS"}}]
current-context: p
KC
}
basic_kc "$WORK/basic.yaml" "$password"
run_ok "basic auth" KUBECONFIG="$WORK/basic.yaml" -- -v 9
grep -q "^< POST /apis/batch/v1/namespaces/$NS/jobs -> 201" "$WORK/proxy.log" \
    && pass "basic auth: the Job was created through the basic-auth server" || fail "basic auth: $(cat "$WORK/proxy.log")"
grep -q "POST https://127.0.0.1" "$WORK/err" && pass "basic auth: -v=9 traces the requests" || fail "no trace"
header=$(printf 'e2e-user:%s' "$password" | base64 -w0)
for secret in "$password" "$header" "$token"; do
    grep -qF -- "$secret" "$WORK/out" "$WORK/err" && fail "a secret appears in a -v=9 basic-auth run" \
        || pass "no password, Authorization value or token in a -v=9 run (${#secret} chars)"
done
basic_kc "$WORK/basic-wrong.yaml" "$password-wrong"
KUBECONFIG="$WORK/basic-wrong.yaml" "$PLUGIN" -v 9 -n "$NS" --image "$IMAGE" "$WORK/ran.py" >"$WORK/out" 2>"$WORK/err"
rc=$?
expect_rc 125 "wrong basic-auth password"
expect_err_contains "Unauthorized" "wrong basic-auth password"
grep -qF -- "$password" "$WORK/out" "$WORK/err" && fail "the wrong password appears" || pass "no password in the 401 error"
stop_proxy

expect_no_leftovers "after the credential cases"
finish
