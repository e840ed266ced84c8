#!/usr/bin/env bash
# CTest fixture: start the local cluster before the e2e tests and stop it
# after, unless the user pointed the tests at a cluster of their own.
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${GKX_E2E_KUBECONFIG:-}" ]; then
    echo "using the cluster of $GKX_E2E_KUBECONFIG; not starting the local one"
    exit 0
fi
case "$1" in
    up) exec "$here/../cluster/up.sh" ;;
    down) exec "$here/../cluster/down.sh" ;;
esac
