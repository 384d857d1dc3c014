#pragma once
// Kernel variants: which form of each shader a device gets. One SPIR-V for every GPU leaves speed on the table
// (a tree reduction through shared memory where the hardware can add across a subgroup in one instruction; a GEMM
// tile sized for no device in particular), so the backend picks per device, from what the driver reports:
//   - subgroups: reductions (layer norm's mean and variance, softmax's max and sum) with subgroupAdd/subgroupMax,
//     then one shared-memory step across subgroups. Needs compute-stage subgroup arithmetic (Vulkan 1.1's
//     VK_SUBGROUP_FEATURE_ARITHMETIC_BIT); the subgroup size is whatever the device runs (gl_SubgroupSize).
//   - linear_tile: the output tile one 16x16 workgroup of `linear` computes: 32, 64 or 128 (2x2, 4x4 or 8x8 per
//     thread). Larger tiles reuse each loaded value more but need more registers and shared memory.
//   - f16: the weight matrices `linear` reads (a model opened for inference; Backend::upload_inference_weight) are
//     stored as F16, half the memory and half the bytes each forward pass streams; the shader widens each value to
//     float as it loads it and accumulates in float. Needs only storageBuffer16BitAccess (Vulkan 1.1's 16-bit
//     storage), no F16 arithmetic. Rounding moves a weight by at most 2^-11 (4.9e-4) of itself, so an output moves
//     by at most that much of the size of its terms (about 1e-3 relative once a few layers compound it). On by
//     default where the device has it, except on a CPU driver (lavapipe; see choose_kernel_variants). Training never
//     gets F16 weights: a fine-tuning step (AdamW moves a weight by about lr = 2e-5, against weights of about 0.05:
//     4e-4 of it) is below F16's resolution, so most updates would round away; the trainer uploads F32 weights
//     (Backend::upload), and only BertModel, which is never trained, asks for inference weights.
// BERTSCOPE_VK_VARIANTS overrides the choice, e.g. "subgroups=off,tile=32,f16=off": for tests, which run every
// variant on lavapipe, and for trying a variant on a real device.
#include <cstdint>
#include <string>

#include "gpu/vulkan_context.h"

namespace bertscope::gpu {

struct KernelVariants {
  bool subgroups = false;
  std::uint32_t subgroup_size = 0;  // what the device reports (informational; shaders read gl_SubgroupSize)
  std::uint32_t linear_tile = 64;
  bool f16 = false;  // inference weight matrices stored as F16
  std::string describe() const;  // e.g. "subgroups (size 32), linear tile 128, f16 weights"
};

// What the device offers that the variants depend on.
struct DeviceSupport {
  bool subgroups = false;  // compute subgroup arithmetic, at a usable subgroup size
  bool f16_storage = false;  // storageBuffer16BitAccess (VulkanContext enables it where present)
};

// What the device supports, best first; then BERTSCOPE_VK_VARIANTS's overrides. Throws Error naming the choices for
// an unknown key or value, and for asking for subgroups or f16 where the device lacks them.
KernelVariants choose_kernel_variants(const VulkanContext& context);

// BERTSCOPE_VK_VARIANTS applied to `variants` (used by choose_kernel_variants; separate so tests can check parsing).
// `device`: whether "subgroups=on" and "f16=on" may be granted.
KernelVariants apply_variant_overrides(KernelVariants variants, const std::string& overrides, DeviceSupport device);

}  // namespace bertscope::gpu
