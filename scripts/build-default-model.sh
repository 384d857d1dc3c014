#!/usr/bin/env bash
# build-default-model.sh CORPUS_DIR RUN_DIR [LATER_RUN_DIR...] : turns pre-training runs (bertscope-cli pretrain;
# a later phase started with --init-from the earlier run's checkpoint) into the shipped default model: exports the
# last run's checkpoint as F16 into resources/default-model, writes the learning curve of all phases (steps counted
# from the first phase's start), copies the corpus manifest and measures the model (evaluate-mlm on the held-out
# texts) into evaluation.json. The model card (resources/default-model/README.md) is written by hand from these.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
corpus=$1; shift
runs=("$@")
[ ${#runs[@]} -gt 0 ] || { echo "usage: $0 CORPUS_DIR RUN_DIR [LATER_RUN_DIR...]" >&2; exit 2; }
cli=$repo/build/app/bertscope-cli
out=$repo/resources/default-model
last=${runs[-1]}
"$cli" convert "$last/checkpoint" "$out.new" --dtype f16 >/dev/null
rm -rf "$out.old"; [ -d "$out" ] && mv "$out" "$out.old"
mv "$out.new" "$out"
for keep in README.md playground-sentences.txt; do  # written by hand, not by this script
  if [ -f "$out.old/$keep" ]; then cp "$out.old/$keep" "$out/$keep"; fi
done
rm -rf "$out.old"
# One curve: a phase column, and each phase's steps and seconds offset by the phases before it.
phase=0; step_offset=0; time_offset=0
for run in "${runs[@]}"; do
  phase=$((phase + 1))
  awk -F, -v OFS=, -v phase=$phase -v so=$step_offset -v to=$time_offset \
    'NR == 1 { if (phase == 1) print "phase", $0; next } { $1 += so; $5 += to; print phase, $0 }' "$run/curve.csv"
  read -r step_offset time_offset < <(awk -F, -v so=$step_offset -v to=$time_offset \
    'NR > 1 { s = $1; t = $5 } END { printf "%d %.1f\n", s + so, t + to }' "$run/curve.csv")
done > "$out/learning-curve.csv"
cp "$corpus/SOURCES.md" "$out/CORPUS.md"
{
  echo "{"
  echo "\"heldout_novel\": $("$cli" evaluate-mlm "$out" "$corpus/heldout-novel.txt" --backend cpu 2>/dev/null),"
  for extra in fiction general; do  # the second edition's corpus (issue 20) has these too
    if [ -f "$corpus/heldout-$extra.txt" ]; then
      echo "\"heldout_$extra\": $("$cli" evaluate-mlm "$out" "$corpus/heldout-$extra.txt" --backend cpu 2>/dev/null),"
    fi
  done
  echo "\"heldout_indomain\": $("$cli" evaluate-mlm "$out" "$corpus/heldout-indomain.txt" --backend cpu 2>/dev/null)"
  echo "}"
} > "$out/evaluation.json"
cat "$out/evaluation.json"
du -sh "$out"
