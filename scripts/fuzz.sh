#!/usr/bin/env bash
# fuzz.sh [SECONDS] : builds the libFuzzer harnesses (tests/fuzz, clang with ASan + UBSan) and runs each for
# SECONDS (default 60) on its seed corpus in tests/fuzz/corpus/NAME plus the regression inputs in
# tests/fuzz/regressions/NAME. A crash fails the script; libFuzzer writes the input as build-fuzz/crash-*, to be
# added to tests/fuzz/regressions/NAME once fixed. Prints the executions each harness made.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
missing=()
for p in clang-14 libclang-rt-14-dev libomp-14-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
build=$repo/build-fuzz
cmake -S "$repo/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for harness in safetensors config tokenizer_files encode csv torch_file bpe tagged hub squad; do
  corpus=$build/corpus/$harness
  mkdir -p "$corpus"
  seeds=("$repo/tests/fuzz/corpus/$harness")
  [ -d "$repo/tests/fuzz/regressions/$harness" ] && seeds+=("$repo/tests/fuzz/regressions/$harness")
  # First every seed and regression input once, then fuzzing for the time given.
  log=$build/$harness.log
  if ! (cd "$build" && "./fuzz_$harness" -runs=0 "${seeds[@]}" > "$log.seeds" 2>&1 &&
        "./fuzz_$harness" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=20 \
          -print_final_stats=1 "$corpus" "${seeds[@]}" > "$log" 2>&1); then
    echo "fuzz_$harness: FAILED (see $log and $log.seeds)"; tail -40 "$log.seeds" "$log" 2>/dev/null | tail -60
    status=1
    continue
  fi
  execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "fuzz_$harness: ${execs:-?} executions in ${seconds} s, no crash"
done
exit $status
