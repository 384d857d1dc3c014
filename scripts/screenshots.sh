#!/usr/bin/env bash
# screenshots.sh [OUT] : starts bertscope under Xvfb and saves a screenshot of every view (default: docs/screenshots).
# The default model shows the model, tokens, fill-mask and attention views; the question-answering, classification
# and entities views are shown on random (untrained) models with those heads, since the default model has none; the
# fine-tune view fine-tunes the default model on ../shared's sentiment sentences (when present), their labels 0 and 1
# named negative and positive. Compare mode shows the default model beside a copy shrunk to half its feed-forward
# neurons (the same vocabulary, layers and heads: answers and maps line up). BERTSCOPE_BUILD_DIR picks the build
# folder (default: build).
# SCREENSHOTS_QUICK=1: only the default model's views, without training (a quick check of the tour; the fine-tune
# PNGs in OUT are left as they are).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/docs/screenshots}
build=${BERTSCOPE_BUILD_DIR:-$repo/build}
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target bertscope bertscope-cli
app=$build/app/gui/bertscope
cli=$build/app/bertscope-cli
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cli" random-model "$work/qa-model" --head qa --layers 2 --hidden 64 --heads 4 --intermediate 128
"$cli" random-model "$work/classifier-model" --head classifier --labels negative,positive --layers 2 --hidden 64 --heads 4 --intermediate 128
"$cli" random-model "$work/ner-model" --head token --layers 2 --hidden 64 --heads 4 --intermediate 128  # CoNLL-2003's labels
# Compare mode's model B: the default model with half its feed-forward neurons (same vocabulary, layers and heads).
intermediate=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["intermediate_size"])' "$repo/resources/default-model/config.json")
"$cli" shrink default "$work/default-model-shrunk" --vocab-size 0 --intermediate $((intermediate / 2)) >/dev/null
export XDG_CONFIG_HOME=$work/config  # a fresh window layout, not the user's
shared=${BERTSCOPE_SHARED:-$repo/../shared}
csv_args=()
quick=${SCREENSHOTS_QUICK:-0}
if [ "$quick" != 1 ] && [ -d "$shared/data/sentiment" ]; then  # the fine-tune view trains on the shared sentiment sentences
  cat "$shared/data/sentiment/yelp_labelled.txt" "$shared/data/sentiment/amazon_cells_labelled.txt" > "$work/sentiment.tsv"
  csv_args=(--screenshot-csv "$work/sentiment.tsv")
fi
tour() {  # tour MODEL DIR [ARGS]
  xvfb-run -a -s "-screen 0 1280x860x24" "$app" "$1" --screenshots "$2" "${@:3}" >/dev/null
}
BERTSCOPE_SCREENSHOT_COMPARE=$work/default-model-shrunk tour default "$work/default" "${csv_args[@]}"
mkdir -p "$out"
cp "$work"/default/0[1-4]-*.png "$out/"
if [ "$quick" != 1 ]; then
  tour "$work/qa-model" "$work/qa"
  tour "$work/classifier-model" "$work/classifier"
  tour "$work/ner-model" "$work/ner"
  cp "$work"/qa/05-*.png "$work"/classifier/06-*.png "$work"/ner/07-*.png "$work"/default/08-*.png "$out/"
fi
ls "$out"
