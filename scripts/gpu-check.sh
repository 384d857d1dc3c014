#!/usr/bin/env bash
# gpu-check.sh : runs ON the lent GPU machine (prepared by scripts/gpu-prep.sh, carried as build-gpu and .gpu).
# Unpacks the runtime libraries, then: the GPU self-check (a tiny model on the GPU vs the CPU; its verdict as JSON,
# then that auto trusts the device and that a perturbed kernel is caught), the self-check / fault-injection suite,
# the Vulkan op suite (in each kernel variant) and training-op suite against the CPU backend (validation layers on),
# and the fill-mask (128 and 512 tokens; 128 in each linear tile) and training-step (batch 8 x 128) benchmarks on a bert-base-sized random model, Vulkan vs the CPU backend on the
# same machine. Everything goes to $OUT/gpu-check.log.
set -uo pipefail
log=${OUT:-/tmp}/gpu-check.log
exec > >(tee "$log") 2>&1
for f in .gpu/*.deb; do dpkg -x "$f" /; done
ldconfig
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
cli=build-gpu/app/bertscope-cli
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
$cli devices
# The self-check, as auto runs it the first time it meets this GPU + driver (fresh config folders: it must run).
export XDG_CONFIG_HOME=$(mktemp -d)
echo "gpu-check: self-check verdict:"
$cli self-check; echo "gpu-check: self-check exit status $?"
$cli devices
echo "gpu-check: a perturbed kernel must fail the check (exit status 1):"
XDG_CONFIG_HOME=$(mktemp -d) BERTSCOPE_FAULT_INJECT=perturb:matmul $cli self-check; echo "gpu-check: exit status $?"
timeout 150 build-gpu/tests/test_gpu_self_check
timeout 150 build-gpu/tests/test_ops
# The kernel variants the device was not given (engine/gpu/kernel_variants.h), so that each is proven on real hardware.
# f16 (F16 weight matrices) is on by default on a GPU with 16-bit storage: forced on, it fails loudly where the device
# lacks it; forced off, the float32 path of an inference model's weights.
for variant in "subgroups=off,tile=32" "subgroups=off,tile=64" "tile=128" "f16=on" "f16=off"; do
  echo "gpu-check: test_ops with BERTSCOPE_VK_VARIANTS=$variant"
  BERTSCOPE_VK_VARIANTS=$variant timeout 150 build-gpu/tests/test_ops
done
timeout 150 build-gpu/tests/test_training_ops
timeout 150 build-gpu/tests/test_f16_weights  # the default model with F16 weight matrices vs the CPU; their memory
$cli random-model /tmp/bert-base --layers 12 --hidden 768 --heads 12 --intermediate 3072
echo "gpu-check: auto after the check (expect Vulkan, gpu_self_check passed, remembered):"
$cli info /tmp/bert-base | grep -E '"backend|gpu_self_check'
for backend in vulkan cpu; do
  for tokens in 128 512; do $cli bench /tmp/bert-base --backend $backend --tokens $tokens --reps 20; done
  $cli bench /tmp/bert-base --backend $backend --tokens 128 --reps 5 --train-batch 8
done
echo "gpu-check: Vulkan 128 tokens in each linear tile (the device's own choice is in the lines above):"
for tile in 32 64 128; do BERTSCOPE_VK_VARIANTS=tile=$tile $cli bench /tmp/bert-base --backend vulkan --tokens 128 --reps 20; done
echo "gpu-check: Vulkan 128 tokens with F16 and with F32 weight matrices (weights_gpu_mb: their GPU memory):"
for f16 in on off; do BERTSCOPE_VK_VARIANTS=f16=$f16 $cli bench /tmp/bert-base --backend vulkan --tokens 128 --reps 20; done
