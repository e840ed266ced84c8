#!/usr/bin/env bash
# Build the fuzz targets with clang (ASan+UBSan+libFuzzer) and run each for
# SECONDS (default 30), seeded from the test fixtures, with a dictionary
# (tests/fuzz/TARGET.dict, else json.dict).
# A crash fails the run and leaves its input in build-fuzz/crashes/; turn
# it into a regression case in tests/fuzz/regressions/TARGET/ (replayed by
# the fuzz_regressions test).
#   tests/fuzz/run.sh [SECONDS [TARGET...]]   (the long run: tests/fuzz/run.sh 600)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
targets=(kubeconfig exec_credential status watch log exec http)
[ $# -gt 1 ] && targets=("${@:2}")
cd "$root"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGKX_FUZZ=ON -DGKX_E2E=OFF -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null
mkdir -p build-fuzz/crashes
seed() { # TARGET: a fresh corpus: the committed seeds, fixtures, past crashes
    local dir=build-fuzz/corpus/$1 d
    mkdir -p "$dir"
    for d in tests/fuzz/seeds/$1 tests/fuzz/regressions/$1; do
        [ ! -d "$d" ] || cp "$d"/* "$dir/"
    done
    [ "$1" != kubeconfig ] || cp tests/fixtures/kubeconfig/*.yaml tests/fixtures/exec/kubeconfig.yaml "$dir/"
}
for t in "${targets[@]}"; do
    seed "$t"
    echo "== fuzz_$t for ${secs}s"
    dict=tests/fuzz/json.dict
    [ ! -f "tests/fuzz/$t.dict" ] || dict=tests/fuzz/$t.dict
    build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" -max_len=16384 -dict="$dict" \
        -artifact_prefix=build-fuzz/crashes/$t- -print_final_stats=1 build-fuzz/corpus/$t 2>&1 \
        | grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|cov:|ERROR|SUMMARY" | tail -3
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "fuzz_$t found a crash: see build-fuzz/crashes/"; exit 1; }
done
