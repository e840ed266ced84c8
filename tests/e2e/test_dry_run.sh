#!/usr/bin/env bash
# --dry-run=client prints what would be created, creates nothing, and the
# API server accepts it as it is (kubectl apply --dry-run=server).
. "$(dirname "$0")/lib.sh"

printf 'print("hi")\n' >"$WORK/hello.py"
sr --dry-run=client -o yaml "$WORK/hello.py"
expect_rc 0 "dry-run yaml"
grep -q '^kind: List' "$WORK/out" && pass "a List" || fail "not a List"
expect_no_leftovers "dry-run creates nothing"
if "$K" apply --dry-run=server -f "$WORK/out" >"$WORK/apply" 2>&1; then
    pass "kubectl apply --dry-run=server accepts the YAML: $(tr '\n' ' ' <"$WORK/apply")"
else
    fail "kubectl apply --dry-run=server refused the YAML"; cat "$WORK/apply"
fi
sr --dry-run=client -o json "$WORK/hello.py"
expect_rc 0 "dry-run json"
if "$K" apply --dry-run=server -f "$WORK/out" >"$WORK/apply" 2>&1; then
    pass "kubectl apply --dry-run=server accepts the JSON"
else
    fail "kubectl apply --dry-run=server refused the JSON"; cat "$WORK/apply"
fi
expect_no_leftovers "server dry-run creates nothing"
finish
