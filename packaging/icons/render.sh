#!/usr/bin/env bash
# render.sh : renders bertscope.svg into the PNG sizes the hicolor theme uses (NxN.png beside it). The PNGs are
# committed, so building needs no SVG renderer; run this after editing the SVG. Needs rsvg-convert (librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")"
for size in 16 24 32 48 64 128 256 512; do
  rsvg-convert --width "$size" --height "$size" bertscope.svg --output "${size}x${size}.png"
done
