#!/usr/bin/env bash
# make-synthetic-squad.sh OUT_DIR [synthetic_squad.py options] : a SYNTHETIC extractive question-answering set in
# SQuAD's JSON format, built from templates over made-up facts (scripts/synthetic_squad.py; its name and value lists
# are in the script, so nothing is downloaded): synthetic-squad-{train,validation,test}.json, with people, values and
# sentence templates held out of training for validation and test. Add --unanswerable 0.2 for SQuAD v2.0 files.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR [--train N --validation N --test N --unanswerable SHARE --seed S]" >&2; exit 2; }
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/synthetic_squad.py" "$out" "$@"
