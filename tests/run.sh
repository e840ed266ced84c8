#!/usr/bin/env bash
# The project's one test command. On a fresh Debian machine it installs what
# is missing, builds with -Werror, runs the unit tests under AddressSanitizer
# and UndefinedBehaviorSanitizer, then runs every test (unit and e2e) with
# CTest, bringing a local one-node cluster up and down around the e2e tests.
# In between: the thread stress test under ThreadSanitizer, valgrind over
# the unit tests, and each libFuzzer target for 30 s (clang 14).
#
#   tests/run.sh                      everything this machine can run
#   GKX_E2E_KUBECONFIG=~/.kube/gke tests/run.sh
#                                     the e2e tests against your own cluster
#
# Slow artefacts (Kubernetes binaries, images) are cached in /var/cache/gkexec.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc 2>/dev/null || echo 2)

if [ "$(id -u)" = 0 ]; then
    tests/cluster/deps.sh
    if [ -z "${GKX_E2E_KUBECONFIG:-}" ]; then
        tests/cluster/build-k8s.sh
        tests/cluster/images.sh
    fi
else
    echo "not root: using the packages already installed; the local cluster will be skipped" >&2
fi

echo "== static analysis (cppcheck, clang-tidy)"
tests/lint.sh

echo "== unit tests under ASan and UBSan"
cmake -S . -B build-asan -DGKX_WERROR=ON -DGKX_SANITIZE=ON -DBUILD_TESTING=ON -DGKX_E2E=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L unit --output-on-failure

echo "== threads under ThreadSanitizer (clang)"
cmake -S . -B build-tsan -DCMAKE_C_COMPILER=clang -DGKX_SANITIZE_THREAD=ON -DGKX_WERROR=ON \
    -DBUILD_TESTING=ON -DGKX_E2E=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-tsan -j "$jobs" --target stress_threads >/dev/null
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/stress_threads 10000

echo "== unit tests under valgrind memcheck"
cmake -S . -B build-valgrind -DBUILD_TESTING=ON -DGKX_E2E=OFF -DCMAKE_BUILD_TYPE=Debug \
    -DMEMORYCHECK_COMMAND_OPTIONS="--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1" >/dev/null
cmake --build build-valgrind -j "$jobs" >/dev/null
ctest --test-dir build-valgrind -T memcheck -R '^unit[.]' --output-on-failure | tail -n 4

if command -v clang >/dev/null && [ -z "${GKX_SKIP_FUZZ:-}" ]; then
    echo "== fuzz targets, 30 s each (the long run: tests/fuzz/run.sh 600)"
    tests/fuzz/run.sh 30
fi

echo "== all tests"
# BUILD_TESTING and GKX_E2E explicitly: plugin/quickstart.sh configures the
# same build/ without tests, and CMake would keep that.
cmake -S . -B build -DGKX_WERROR=ON -DBUILD_TESTING=ON -DGKX_E2E=ON >/dev/null
cmake --build build -j "$jobs" >/dev/null
ctest --test-dir build --output-on-failure --no-tests=error
