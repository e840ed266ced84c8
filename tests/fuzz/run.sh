#!/usr/bin/env bash
# Build the fuzz targets with clang (ASan+UBSan+libFuzzer) and run each for
# SECONDS (default 30), seeded from the test fixtures, with a dictionary.
# A crash fails the run and leaves its input in build-fuzz/crashes/.
#   tests/fuzz/run.sh [SECONDS]      (the long run: tests/fuzz/run.sh 600)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
cd "$root"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DGKX_FUZZ=ON -DGKX_E2E=OFF -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_kubeconfig fuzz_exec_credential fuzz_status fuzz_watch >/dev/null
mkdir -p build-fuzz/crashes
seed() { # TARGET: a fresh corpus directory seeded from fixtures
    local dir=build-fuzz/corpus/$1
    mkdir -p "$dir"
    case $1 in
    kubeconfig) cp tests/fixtures/kubeconfig/*.yaml tests/fixtures/exec/kubeconfig.yaml "$dir/" ;;
    exec_credential) grep -ho "{\"apiVersion[^']*}" tests/fixtures/exec/plugin.sh | sed 's/%s/x/g' \
                         | awk '{print > ("'"$dir"'/seed" NR)}' ;;
    status) printf '{"kind":"Status","status":"Failure","message":"m","reason":"Forbidden","code":403}' >"$dir/s1" ;;
    watch) printf '\x07{"type":"ADDED","object":{"metadata":{"name":"p"}}}\n{"type":"ERROR","object":{"code":410}}\n' >"$dir/w1" ;;
    esac
}
for t in kubeconfig exec_credential status watch; do
    seed "$t"
    echo "== fuzz_$t for ${secs}s"
    build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$secs" -dict=tests/fuzz/json.dict \
        -artifact_prefix=build-fuzz/crashes/$t- -print_final_stats=1 build-fuzz/corpus/$t 2>&1 \
        | grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|cov:|ERROR|SUMMARY" | tail -3
    [ "${PIPESTATUS[0]}" = 0 ] || { echo "fuzz_$t found a crash: see build-fuzz/crashes/"; exit 1; }
done
