#!/usr/bin/env bash
# Static analysis, failing on any finding: cppcheck, then clang-tidy with
# the checked-in .clang-tidy, over the library and the plugin.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cppcheck --enable=warning,portability,performance --std=c11 --quiet --error-exitcode=1 \
    --suppress=missingIncludeSystem -I libgkexec/include -I libgkexec/src libgkexec/src plugin
echo "cppcheck: clean"
cmake -S . -B build-lint -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-lint --target gkexec_obj >/dev/null # the generated version.h
clang-tidy -p build-lint --quiet libgkexec/src/*.c plugin/*.c
echo "clang-tidy: clean"
