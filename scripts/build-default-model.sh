#!/usr/bin/env bash
# build-default-model.sh CORPUS_DIR [--earlier CURVE.csv] RUN_DIR [LATER_RUN_DIR...] : turns pre-training runs
# (bertscope-cli pretrain; a later phase started with --init-from the earlier run's checkpoint) into the shipped
# default model: exports the last run's checkpoint as F16 into resources/default-model, writes the learning curve of
# all phases (scripts/join_learning_curves.py; --earlier: the curve of phases whose run folders are gone, e.g. the
# model shipped before) and its plot (learning-curve.svg), copies the corpus manifest and measures the model
# (evaluate-mlm on the held-out texts and, where ../shared/data/sentiment is there, on the yelp + amazon review
# sentences) into evaluation.json. The model card (resources/default-model/README.md) is written by hand from these.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
usage="usage: $0 CORPUS_DIR [--earlier CURVE.csv] RUN_DIR [LATER_RUN_DIR...]"
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
corpus=$1; shift
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
earlier=()
if [ "$1" = --earlier ]; then
  cp "$2" "$work/earlier.csv"  # before resources/default-model, where it may lie, is replaced
  earlier=(--earlier "$work/earlier.csv"); shift 2
fi
runs=("$@")
[ ${#runs[@]} -gt 0 ] || { echo "$usage" >&2; exit 2; }
cli=$repo/build/app/bertscope-cli
out=$repo/resources/default-model
last=${runs[-1]}
python3 "$repo/scripts/join_learning_curves.py" "${earlier[@]}" "${runs[@]}" > "$work/learning-curve.csv"
"$cli" convert "$last/checkpoint" "$out.new" --dtype f16 >/dev/null
rm -rf "$out.old"; [ -d "$out" ] && mv "$out" "$out.old"
mv "$out.new" "$out"
for keep in README.md playground-sentences.txt; do  # written by hand, not by this script
  if [ -f "$out.old/$keep" ]; then cp "$out.old/$keep" "$out/$keep"; fi
done
rm -rf "$out.old"
cp "$work/learning-curve.csv" "$out/learning-curve.csv"
python3 "$repo/scripts/plot_learning_curve.py" "$out/learning-curve.csv" "$out/learning-curve.svg"
cp "$corpus/SOURCES.md" "$out/CORPUS.md"
evaluate() { "$cli" evaluate-mlm "$out" "$1" --backend cpu 2>/dev/null; }
reviews=$repo/../shared/data/sentiment
{
  echo "{"
  echo "\"heldout_novel\": $(evaluate "$corpus/heldout-novel.txt"),"
  for extra in fiction general; do  # the second edition's corpus (issue 20) has these too
    if [ -f "$corpus/heldout-$extra.txt" ]; then echo "\"heldout_$extra\": $(evaluate "$corpus/heldout-$extra.txt"),"; fi
  done
  if [ -f "$reviews/yelp_labelled.txt" ]; then  # the sentences only, without their labels
    cut -f1 "$reviews/yelp_labelled.txt" "$reviews/amazon_cells_labelled.txt" > "$work/reviews.txt"
    echo "\"reviews\": $(evaluate "$work/reviews.txt"),"
  fi
  echo "\"heldout_indomain\": $(evaluate "$corpus/heldout-indomain.txt")"
  echo "}"
} > "$out/evaluation.json"
cat "$out/evaluation.json"
du -sh "$out"
