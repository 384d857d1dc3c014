#!/usr/bin/env bash
# sanitize-tests.sh : the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer. Builds everything in
# build-asan with -DBERTSCOPE_SANITIZE=ON (asserts on, -O1) and runs every CTest suite as scripts/run-tests.sh does:
# the GUI tests offscreen, the Vulkan tests on lavapipe with validation layers, the CLI the tests start sanitized too.
# Any report aborts the process it happens in, which fails its test. Suppressions (tests/sanitizers/) cover only
# third-party code, each with the reason.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/install-deps.sh" --tests
build=$repo/build-asan
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTSCOPE_SANITIZE=ON >/dev/null
cmake --build "$build"
supp=$repo/tests/sanitizers
# abort_on_error: a report ends the process with SIGABRT, which no test mistakes for an expected exit code.
export ASAN_OPTIONS=abort_on_error=1:check_initialization_order=1:detect_leaks=1:strict_init_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1:suppressions=$supp/ubsan.supp
export LSAN_OPTIONS=suppressions=$supp/lsan.supp:print_suppressions=0
ctest --test-dir "$build" --output-on-failure
