#!/usr/bin/env bash
# Line and branch coverage of what the fuzzers reached: replays each
# target's corpus (build-fuzz/corpus/TARGET after tests/fuzz/run.sh, or
# CORPUS_ROOT/TARGET) through the replay driver built with clang's
# source-based coverage, and prints, for each function the target reached,
# the lines and branches its inputs executed. Needs llvm-14 (llvm-profdata,
# llvm-cov).
#   tests/fuzz/coverage.sh [CORPUS_ROOT]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
corpora=$(cd "${1:-build-fuzz/corpus}" && pwd)
prof=/usr/lib/llvm-14/bin
[ -x "$prof/llvm-cov" ] || { echo "coverage.sh needs llvm-14 (apt-get install llvm-14)" >&2; exit 1; }
targets=(kubeconfig exec_credential status watch log exec http)
cmake -S . -B build-fuzzcov -DCMAKE_C_COMPILER=clang -DGKX_E2E=OFF -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" >/dev/null
cmake --build build-fuzzcov -j "$(nproc)" --target "${targets[@]/#/replay_}" >/dev/null
for t in "${targets[@]}"; do
    case $t in
    kubeconfig) files=(libgkexec/src/kubeconfig.c libgkexec/src/yaml.c) ;;
    exec_credential) files=(libgkexec/src/exec_credential.c) ;;
    status) files=(libgkexec/src/api.c) ;;
    watch) files=(libgkexec/src/watch.c) ;;
    log) files=(libgkexec/src/run_log.c) ;;
    exec) files=(libgkexec/src/ws.c libgkexec/src/exec.c) ;;
    http) files=(libgkexec/src/ws.c) ;;
    esac
    [ -d "$corpora/$t" ] || { echo "== $t: no corpus in $corpora/$t"; continue; }
    LLVM_PROFILE_FILE=build-fuzzcov/$t.profraw build-fuzzcov/tests/replay_$t "$corpora/$t" >/dev/null
    "$prof/llvm-profdata" merge -o "build-fuzzcov/$t.profdata" "build-fuzzcov/$t.profraw"
    echo "== $t ($(ls "$corpora/$t" | wc -l) inputs)"
    # Per function, those the target reached (the files also hold code no
    # fuzz input can reach, such as process spawning): lines and branches.
    "$prof/llvm-cov" report "build-fuzzcov/tests/replay_$t" -instr-profile="build-fuzzcov/$t.profdata" \
        --show-functions "${files[@]}" |
        awk '$2 ~ /^[0-9]+$/ && $1 != "TOTAL" && $6 < $5 {
                 printf "  %-34s lines %4d/%-4d %7s   branches %4d/%-4d %7s\n", $1, $5 - $6, $5, $7, $8 - $9, $8, $10 }'
done
