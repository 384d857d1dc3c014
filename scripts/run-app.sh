#!/usr/bin/env bash
# run-app.sh [MODEL] : installs what is missing, builds, and opens bertscope on MODEL (default: the built-in model).
# Without a display (a server, a container) it runs the app under Xvfb instead and saves a screenshot of every view
# into build/screenshots, so the main job can be checked anywhere.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-default}
"$repo/scripts/install-deps.sh"
cmake -S "$repo" -B "$repo/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$repo/build" --target bertscope bertscope-cli
app=$repo/build/app/gui/bertscope
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$app" "$model"
fi
echo "run-app: no display; running bertscope under Xvfb and saving each view to build/screenshots" >&2
rm -rf "$repo/build/screenshots"
xvfb-run -a -s "-screen 0 1280x860x24" "$app" "$model" --screenshots "$repo/build/screenshots"
