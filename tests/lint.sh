#!/usr/bin/env bash
# Static analysis, failing on any finding: the layout (clang-format 14 with
# the checked-in .clang-format), cppcheck, then clang-tidy with the
# checked-in .clang-tidy, over the library and the plugin.
#   tests/lint.sh            check
#   tests/lint.sh --format   rewrite the C files in the checked-in layout
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mapfile -t sources < <(git ls-files --cached --others --exclude-standard -- 'libgkexec/*.[ch]' 'plugin/*.[ch]' 'tests/*.[ch]' 2>/dev/null ||
    find libgkexec plugin tests -name '*.[ch]')
if [ "${1:-}" = --format ]; then
    clang-format -i "${sources[@]}"
    exit 0
fi
clang-format --dry-run --Werror "${sources[@]}" || {
    echo "layout differs from .clang-format: run tests/lint.sh --format"; exit 1; }
echo "clang-format: clean"
cppcheck --enable=warning,portability,performance --std=c11 --quiet --error-exitcode=1 \
    --suppress=missingIncludeSystem -I libgkexec/include -I libgkexec/src libgkexec/src plugin
echo "cppcheck: clean"
cmake -S . -B build-lint -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-lint --target gkexec_obj >/dev/null # the generated version.h
clang-tidy -p build-lint --quiet libgkexec/src/*.c plugin/*.c
echo "clang-tidy: clean"
