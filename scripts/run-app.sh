#!/usr/bin/env bash
# run-app.sh [MODEL] : installs what is missing, builds, and runs bertscope on MODEL (default: the built-in model).
# Until the desktop app lands (issue 3), this is a command-line demo: model info, tokens, fill-mask, attention.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-default}
"$repo/scripts/install-deps.sh"
cmake -S "$repo" -B "$repo/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$repo/build" --target bertscope-cli
cli=$repo/build/app/bertscope-cli
echo "== model"; "$cli" info "$model"
echo "== tokenize"; "$cli" tokenize "$model" --text "Unaffable cats don't play chess." 2>/dev/null
echo "== fill-mask"; "$cli" fill-mask "$model" --text "The [MASK] sat on the mat." --top-k 5 2>/dev/null
echo "== devices"; "$cli" devices 2>/dev/null
