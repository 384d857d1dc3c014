#!/usr/bin/env bash
# run-tests.sh : installs what is missing, builds everything, runs the whole test suite (CTest + Qt Test).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/install-deps.sh" --tests
cmake -S "$repo" -B "$repo/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$repo/build"
ctest --test-dir "$repo/build" --output-on-failure
