#!/usr/bin/env bash
# bench-training.sh [BUILD_DIR] : the fine-tuning benchmarks, in one run.
#  1. One training step (batch 8 x 128 tokens, bert-base-sized random model: forward, cross-entropy, backward,
#     AdamW, no dropout) with bertscope (CPU, and Vulkan when VULKAN_REPS > 0: on lavapipe one step takes minutes)
#     and PyTorch on this machine, as ratios.
#  2. Sentiment: fine-tune MODEL (default: bertscope's default model) on ../shared/data/sentiment (yelp + amazon,
#     80/20 stratified split, seed 0) and compare its validation accuracy with a bag-of-words logistic regression
#     trained on the very same split (scripts/bow_baseline.py).
# Needs hf-oracle (../shared/tools/hf-oracle). EPOCHS, LR and MODEL choose the fine-tuning run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/.." && pwd)
build=${1:-$repo/build}
shared=${BERTSCOPE_SHARED:-$repo/../shared}
oracle=$shared/tools/hf-oracle
cli=$build/app/bertscope-cli
reps=${REPS:-3}; vulkan_reps=${VULKAN_REPS:-0}
model=${BENCH_MODEL:-$HOME/.cache/bertscope/bench-bert-base}
if [ ! -f "$model/model.safetensors" ]; then
  echo "making a bert-base-sized random model in $model (about a minute)..." >&2
  /usr/bin/python3 "$oracle/make_model.py" "$model" --head mlm --vocab_dir "$shared/data/bert-base-uncased" \
    --layers 12 --hidden 768 --heads 12 --inter 3072 --seed 0 >/dev/null 2>&1
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "== one training step, batch 8 x 128 tokens, bert-base-sized"
step() { local name=$1; shift; "$@" | tail -n1 | tee "$out/$name.json"; }
step bertscope_cpu "$cli" bench "$model" --backend cpu --tokens 128 --reps "$reps" --train-batch 8
if [ "${OPENBLAS_CORETYPE:-}" != SkylakeX ] && grep -qw avx512bw /proc/cpuinfo; then
  step bertscope_cpu_avx512 env OPENBLAS_CORETYPE=SkylakeX "$cli" bench "$model" --backend cpu --tokens 128 --reps "$reps" --train-batch 8
fi
if [ "$vulkan_reps" -gt 0 ]; then
  step bertscope_vulkan "$cli" bench "$model" --backend vulkan --tokens 128 --reps "$vulkan_reps" --train-batch 8 || true
fi
step pytorch /usr/bin/python3 "$oracle/bench_torch.py" "$model" 128 "$reps" --train-batch 8
/usr/bin/python3 - "$out" <<'PY'
import ast, json, os, sys
out = sys.argv[1]
def load(n):
    p = os.path.join(out, n + ".json")
    if not os.path.exists(p) or not open(p).read().strip(): return None
    s = open(p).read().strip()
    return json.loads(s) if s.startswith('{"') else ast.literal_eval(s)
torch = load("pytorch")
for n in ("bertscope_cpu", "bertscope_cpu_avx512", "bertscope_vulkan"):
    d = load(n)
    if d and torch: print(f"{n} / pytorch: {d['median_ms'] / torch['median_ms']:.2f}x ({d['median_ms']:.0f} ms vs {torch['median_ms']:.0f} ms)")
PY
echo "== sentiment: fine-tuned ${MODEL:-default} vs bag-of-words, same 80/20 split (seed 0)"
cat "$shared/data/sentiment/yelp_labelled.txt" "$shared/data/sentiment/amazon_cells_labelled.txt" > "$out/sentiment.tsv"
"$cli" train "${MODEL:-default}" --csv "$out/sentiment.tsv" --text-column 1 --label-column 2 --header no \
  ${EPOCHS:+--epochs "$EPOCHS"} ${LR:+--lr "$LR"} --seed 0 --validation 0.2 --out "$out/fine-tuned" --save-split "$out/split" \
  2> >(grep -v '^step' >&2) > "$out/train.json"
/usr/bin/python3 - "$out/train.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("bertscope fine-tuned: validation accuracy %.4f, F1 %.4f, %.0f s on %s" % (d["accuracy"], d["f1"], d["seconds"], d["backend"]))
PY
/usr/bin/python3 "$here/bow_baseline.py" "$out/split"
