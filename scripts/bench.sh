#!/usr/bin/env bash
# bench.sh [BUILD_DIR] : bertscope against onnxruntime (transformers.js) and PyTorch, side by side in one run, on a
# bert-base-sized random model (12 layers, 768 hidden), CPU, fp32. Prints one table and the ratios
# (bertscope / peer; below 1.0 means bertscope is faster):
#   - fill-mask latency at each of LENGTHS (default 16 128 512 tokens), batch 1, median of REPS;
#   - one fine-tuning step, batch 8 x 128 (2-label classifier, AdamW; bertscope `bench --train-batch 8`);
#   - batch inference: sentences per second over SENTENCES (default the shared yelp sentences, 1,000), 32 a batch,
#     as `evaluate` runs them, against transformers.js's text-classification (a bert-base-sized classifier);
#   - cold start: wall time of a whole `bertscope-cli fill-mask default --text ...` process, and the app's launch to
#     its first fill-mask answer painted (`bertscope --time-to-first-answer`, offscreen);
#   - peak memory (max RSS) of every process; and, with VULKAN=1, the Vulkan backend's time and the dispatches,
#     barriers and submissions one forward pass records.
# Needs hf-oracle (../shared/tools/hf-oracle, set up by .ci/run). Timings are only worth comparing on an idle machine:
# stop other work first (the script warns when the load average says otherwise).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/.." && pwd)
build=${1:-$repo/build}
cli=$build/app/bertscope-cli
shared=${BERTSCOPE_SHARED:-$repo/../shared}
oracle=$shared/tools/hf-oracle
node_dir=${HF_ORACLE_DIR:-$HOME/.cache/hf-oracle}
lengths=${LENGTHS:-16 128 512}; reps=${REPS:-10}; train_reps=${TRAIN_REPS:-5}
model=${BENCH_MODEL:-$HOME/.cache/bertscope/bench-bert-base}
classifier=${BENCH_CLASSIFIER:-$HOME/.cache/bertscope/bench-bert-base-cls}
sentences=${SENTENCES:-$shared/data/sentiment/yelp_labelled.txt}
for pair in "mlm:$model" "cls:$classifier"; do
  head=${pair%%:*} dir=${pair#*:}
  if [ ! -f "$dir/model.safetensors" ]; then
    echo "making a bert-base-sized random model in $dir (about a minute)..." >&2
    /usr/bin/python3 "$oracle/make_model.py" "$dir" --head "$head" --vocab_dir "$shared/data/bert-base-uncased" \
      --layers 12 --hidden 768 --heads 12 --inter 3072 --seed 0 >/dev/null 2>&1
  fi
done
cp "$oracle"/*.mjs "$here/bench_batch_hf.mjs" "$node_dir"/
# Debian's PyTorch multiplies with Debian's OpenBLAS, which falls back to its generic kernels on CPUs newer than it
# knows; bertscope then picks better ones itself (engine/cpu/blas_setup.h). Give PyTorch the same, to be fair.
if grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo; then
  torch_blas=SkylakeX
elif grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  torch_blas=Haswell
else
  torch_blas=
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
  echo "warning: load average $load: other work is running, and the timings below will show it" >&2
fi
# measure NAME COMMAND... : runs it under /usr/bin/time; keeps stdout's last line (a JSON object or a Python dict),
# the peak RSS and the wall time.
measure() {
  local name=$1; shift
  if ! /usr/bin/time -f '%M %e' -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err"; then
    echo "$name failed:" >&2; tail -5 "$out/$name.err" >&2; return 1
  fi
}
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $load"
for n in $lengths; do
  measure "bertscope_cpu_$n" "$cli" bench "$model" --backend cpu --tokens "$n" --reps "$reps" || true
  measure "onnxruntime_$n" bash -c "cd '$node_dir' && node bench_hf.mjs '$model' $n $reps" || true
  measure "pytorch_$n" env ${torch_blas:+OPENBLAS_CORETYPE=$torch_blas} /usr/bin/python3 "$oracle/bench_torch.py" "$model" "$n" "$reps" || true
  if [ "${VULKAN:-0}" = 1 ]; then
    measure "bertscope_vulkan_$n" "$cli" bench "$model" --backend vulkan --tokens "$n" --reps "${VULKAN_REPS:-3}" || true
  fi
done
measure bertscope_cpu_train "$cli" bench "$model" --backend cpu --tokens 128 --reps "$train_reps" --train-batch 8 || true
measure pytorch_train env ${torch_blas:+OPENBLAS_CORETYPE=$torch_blas} /usr/bin/python3 "$oracle/bench_torch.py" "$model" 128 "$train_reps" --train-batch 8 || true
measure bertscope_cpu_batch "$cli" bench "$classifier" --backend cpu --sentences "$sentences" --batch-size 32 --reps "${BATCH_REPS:-3}" || true
measure onnxruntime_batch bash -c "cd '$node_dir' && node bench_batch_hf.mjs '$classifier' '$sentences' 32 ${BATCH_REPS:-3}" || true
measure cold_start "$cli" fill-mask default --text "The [MASK] sat on the mat." --backend cpu || true
if [ -x "$build/app/gui/bertscope" ]; then
  measure app_first_answer env QT_QPA_PLATFORM=offscreen "$build/app/gui/bertscope" --time-to-first-answer || true
fi
TORCH_BLAS=$torch_blas /usr/bin/python3 - "$out" "$lengths" <<'PY'
import ast, json, os, sys
out, lengths = sys.argv[1], sys.argv[2].split()
def load(name):
    try:
        line = open(os.path.join(out, name + ".out")).read().strip().splitlines()[-1]
        d = json.loads(line) if line.startswith(("{\"", "[")) else ast.literal_eval(line)
    except Exception:
        d = {}
    if not isinstance(d, dict):  # fill-mask's answer (a list): only the process's time and memory are wanted
        d = {}
    try:
        rss_kb, wall_s = open(os.path.join(out, name + ".time")).read().split()[-2:]
        d["peak_rss_mb"], d["wall_s"] = int(rss_kb) / 1024, float(wall_s)
    except Exception:
        return None
    return d
def ratio(a, b, key="median_ms"):
    return f"{a[key] / b[key]:.2f}x" if a and b and key in a and key in b else "-"
def ms(d, key="median_ms"):
    return f"{d[key]:.1f}" if d and key in d else "-"
print(f"PyTorch's OpenBLAS kernels: {os.environ.get('TORCH_BLAS') or 'its own choice'}")
print("\n| what | bertscope ms | onnxruntime ms | PyTorch ms | vs onnxruntime | vs PyTorch | RSS MB (b / o / p) |")
print("|---|---|---|---|---|---|---|")
for n in lengths:
    b, o, p = load(f"bertscope_cpu_{n}"), load(f"onnxruntime_{n}"), load(f"pytorch_{n}")
    rss = " / ".join(f"{d['peak_rss_mb']:.0f}" if d else "-" for d in (b, o, p))
    print(f"| fill-mask {n} tokens | {ms(b)} | {ms(o)} | {ms(p)} | {ratio(b, o)} | {ratio(b, p)} | {rss} |")
b, p = load("bertscope_cpu_train"), load("pytorch_train")
print(f"| train step 8 x 128 | {ms(b)} | - | {ms(p)} | - | {ratio(b, p)} | "
      f"{b['peak_rss_mb'] if b else 0:.0f} / - / {p['peak_rss_mb'] if p else 0:.0f} |")
b, o = load("bertscope_cpu_batch"), load("onnxruntime_batch")
if b and o and "sentences_per_s" in b and "sentences_per_s" in o:
    print(f"| batch inference, {b['sentences']} sentences, 32 a batch (sentences/s) | {b['sentences_per_s']:.1f} | "
          f"{o['sentences_per_s']:.1f} | - | {o['sentences_per_s'] / b['sentences_per_s']:.2f}x | - | "
          f"{b['peak_rss_mb']:.0f} / {o['peak_rss_mb']:.0f} / - |")
c = load("cold_start")
if c:
    print(f"| cold start (fill-mask default, whole process) | {c['wall_s'] * 1000:.0f} | - | - | - | - | {c['peak_rss_mb']:.0f} |")
a = load("app_first_answer")
if a and "first_answer_ms" in a:
    print(f"| app launch to first answer painted (offscreen) | {a['first_answer_ms']:.0f} | - | - | - | - | {a['peak_rss_mb']:.0f} |")
for n in lengths:
    v = load(f"bertscope_vulkan_{n}")
    if v and "median_ms" in v:
        print(f"\nVulkan {n} tokens ({v['backend']}): {v['median_ms']:.1f} ms; one forward pass records "
              f"{v.get('dispatches_per_call')} dispatches, {v.get('barriers_per_call')} barriers, "
              f"{v.get('submissions_per_call')} submissions")
PY
