#!/usr/bin/env bash
# bench.sh [BUILD_DIR] : fill-mask latency on a 128-token input for a bert-base-sized random model (12 layers,
# 768 hidden), side by side in one run: bertscope CPU, bertscope Vulkan, onnxruntime (transformers.js) and PyTorch.
# Prints each engine's JSON and the ratios (bertscope / peer; below 1.0 means bertscope is faster), and the peak
# memory (max RSS) of each process. Needs hf-oracle (../shared/tools/hf-oracle, set up by .ci/run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/.." && pwd)
build=${1:-$repo/build}
shared=${BERTSCOPE_SHARED:-$repo/../shared}
oracle=$shared/tools/hf-oracle
node_dir=${HF_ORACLE_DIR:-$HOME/.cache/hf-oracle}
tokens=${TOKENS:-128}; reps=${REPS:-10}; vulkan_reps=${VULKAN_REPS:-3}
model=${BENCH_MODEL:-$HOME/.cache/bertscope/bench-bert-base}
if [ ! -f "$model/model.safetensors" ]; then
  echo "making a bert-base-sized random model in $model (about a minute)..." >&2
  /usr/bin/python3 "$oracle/make_model.py" "$model" --head mlm --vocab_dir "$shared/data/bert-base-uncased" \
    --layers 12 --hidden 768 --heads 12 --inter 3072 --seed 0 >/dev/null 2>&1
fi
cp "$oracle"/*.mjs "$node_dir"/
out=$(mktemp -d)
measure() {  # name, command... : runs it under /usr/bin/time, keeps stdout's last JSON line and the peak RSS
  local name=$1; shift
  /usr/bin/time -f '%M' -o "$out/$name.rss" "$@" >"$out/$name.out" 2>"$out/$name.err" || { echo "$name failed:" >&2; cat "$out/$name.err" >&2; return 1; }
  tail -n1 "$out/$name.out"
}
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
measure bertscope_cpu "$build/app/bertscope-cli" bench "$model" --backend cpu --tokens "$tokens" --reps "$reps"
if [ "${OPENBLAS_CORETYPE:-}" != SkylakeX ] && grep -qw avx512bw /proc/cpuinfo; then
  # This machine may pin OpenBLAS to AVX2 kernels (OPENBLAS_CORETYPE); time its AVX-512 kernels too.
  measure bertscope_cpu_avx512 env OPENBLAS_CORETYPE=SkylakeX "$build/app/bertscope-cli" bench "$model" --backend cpu --tokens "$tokens" --reps "$reps"
fi
measure bertscope_vulkan "$build/app/bertscope-cli" bench "$model" --backend vulkan --tokens "$tokens" --reps "$vulkan_reps" || true
measure onnxruntime bash -c "cd '$node_dir' && node bench_hf.mjs '$model' $tokens $reps"
measure pytorch /usr/bin/python3 "$oracle/bench_torch.py" "$model" "$tokens" "$reps"
/usr/bin/python3 - "$out" <<'PY'
import ast, json, os, sys
out = sys.argv[1]
def load(name):
    try:
        line = open(os.path.join(out, name + ".out")).read().strip().splitlines()[-1]
        d = json.loads(line) if line.startswith("{\"") else ast.literal_eval(line)
        d["peak_rss_mb"] = int(open(os.path.join(out, name + ".rss")).read().split()[-1]) / 1024
        return d
    except Exception:
        return None
r = {n: load(n) for n in ("bertscope_cpu", "bertscope_cpu_avx512", "bertscope_vulkan", "onnxruntime", "pytorch")}
print("\n| engine | median ms | peak RSS MB |\n|---|---|---|")
for n, d in r.items():
    if d: print(f"| {n} | {d['median_ms']:.1f} | {d['peak_rss_mb']:.0f} |")
print()
for mine in ("bertscope_cpu", "bertscope_cpu_avx512", "bertscope_vulkan"):
    for peer in ("onnxruntime", "pytorch"):
        if r[mine] and r[peer]:
            print(f"{mine} / {peer}: time {r[mine]['median_ms'] / r[peer]['median_ms']:.2f}x, "
                  f"memory {r[mine]['peak_rss_mb'] / r[peer]['peak_rss_mb']:.2f}x")
PY
rm -rf "$out"
