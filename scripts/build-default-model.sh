#!/usr/bin/env bash
# build-default-model.sh RUN_DIR CORPUS_DIR : turns a pre-training run (bertscope-cli pretrain) into the shipped
# default model: exports the checkpoint as F16 into resources/default-model, copies the learning curve and the
# corpus manifest next to it, and measures it (evaluate-mlm on both held-out texts) into evaluation.json.
# The model card (resources/default-model/README.md) is written by hand from these files.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
run=$1; corpus=$2
cli=$repo/build/app/bertscope-cli
out=$repo/resources/default-model
"$cli" convert "$run/checkpoint" "$out.new" --dtype f16 >/dev/null
rm -rf "$out.old"; [ -d "$out" ] && mv "$out" "$out.old"
mv "$out.new" "$out"
[ -f "$out.old/README.md" ] && cp "$out.old/README.md" "$out/README.md"
rm -rf "$out.old"
cp "$run/curve.csv" "$out/learning-curve.csv"
cp "$corpus/SOURCES.md" "$out/CORPUS.md"
{
  echo "{"
  echo "\"heldout_novel\": $("$cli" evaluate-mlm "$out" "$corpus/heldout-novel.txt" --backend cpu 2>/dev/null),"
  echo "\"heldout_indomain\": $("$cli" evaluate-mlm "$out" "$corpus/heldout-indomain.txt" --backend cpu 2>/dev/null)"
  echo "}"
} > "$out/evaluation.json"
cat "$out/evaluation.json"
du -sh "$out"
