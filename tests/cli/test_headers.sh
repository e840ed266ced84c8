#!/usr/bin/env bash
# The public headers compile as C89 -pedantic and as C++, with every
# warning an error (STYLE.md). Usage: test_headers.sh INCLUDE-DIR GENERATED-INCLUDE-DIR
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#include <gkexec/gkexec.h>\nint main(void) { gkx_error e; gkx_error_clear(&e); return gkx_version() == 0; }\n' >"$work/h.c"
cp "$work/h.c" "$work/h.cpp"
cc -std=c89 -pedantic -Wall -Wextra -Werror -I "$1" -I "$2" -c "$work/h.c" -o "$work/c.o"
echo "ok: C89 -pedantic"
c++ -std=c++11 -Wall -Wextra -Werror -I "$1" -I "$2" -c "$work/h.cpp" -o "$work/cxx.o"
echo "ok: C++11"
