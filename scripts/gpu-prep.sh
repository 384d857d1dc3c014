#!/usr/bin/env bash
# gpu-prep.sh : prepares, on this machine, what scripts/gpu-check.sh needs on a lent GPU machine (see
# /work/.library/device): a build of the CLI and the Vulkan test suites (no GUI) in build-gpu/, and the runtime
# libraries that machine lacks (Vulkan loader, validation layers, Qt Core/Test, OpenBLAS, utf8proc) as .deb files
# in .gpu/. Both folders are git-ignored; name them in the device call's `carry`:
#   run(command="bash scripts/gpu-check.sh", carry=["build-gpu", ".gpu"], timeout_s=540)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DBERTSCOPE_BUILD_GUI=OFF >/dev/null
cmake --build build-gpu --target bertscope-cli test_ops test_training_ops test_gpu_self_check test_f16_weights
mkdir -p .gpu /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update -qq
(cd .gpu && apt-get $o download libvulkan1 vulkan-validationlayers libqt6core6 libqt6test6 libicu72 \
  libdouble-conversion3 libb2-1 libpcre2-16-0 libopenblas0-openmp libopenblas0 libutf8proc2 libgomp1 2>/dev/null)
# Keep only what is carried: binaries and their embedded shaders (no object files).
find build-gpu -name '*.o' -delete
du -sh build-gpu .gpu
