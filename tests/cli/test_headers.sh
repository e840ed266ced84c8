#!/usr/bin/env bash
# The public headers compile as C89 -pedantic and as C++, with every
# warning an error (STYLE.md), and the _INIT macros name every member of
# their structs (no -Wmissing-field-initializers, no excess elements).
# Usage: test_headers.sh INCLUDE-DIR GENERATED-INCLUDE-DIR
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/h.c" <<'C'
#include <gkexec/gkexec.h>
#include <gkexec/sys/transport.h>
int main(void)
{
	gkx_error e;
	gkx_config_options co = GKX_CONFIG_OPTIONS_INIT;
	gkx_run_options ro = GKX_RUN_OPTIONS_INIT;
	gkx_transport tp = GKX_TRANSPORT_INIT;
	gkx_error_clear(&e);
	return gkx_version() == 0 || co.version != GKX_CONFIG_OPTIONS_VERSION ||
	       ro.version != GKX_RUN_OPTIONS_VERSION || tp.version != GKX_TRANSPORT_VERSION ||
	       *gkx_error_name(GKX_ECANCELED) == 0;
}
C
cp "$work/h.c" "$work/h.cpp"
cc -std=c89 -pedantic -Wall -Wextra -Werror -I "$1" -I "$2" -c "$work/h.c" -o "$work/c.o"
echo "ok: C89 -pedantic, with the _INIT macros"
c++ -std=c++11 -Wall -Wextra -Werror -I "$1" -I "$2" -c "$work/h.cpp" -o "$work/cxx.o"
echo "ok: C++11, with the _INIT macros"
