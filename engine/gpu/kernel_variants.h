#pragma once
// Kernel variants: which form of each shader a device gets. One SPIR-V for every GPU leaves speed on the table
// (a tree reduction through shared memory where the hardware can add across a subgroup in one instruction; a GEMM
// tile sized for no device in particular), so the backend picks per device, from what the driver reports:
//   - subgroups: reductions (layer norm's mean and variance, softmax's max and sum) with subgroupAdd/subgroupMax,
//     then one shared-memory step across subgroups. Needs compute-stage subgroup arithmetic (Vulkan 1.1's
//     VK_SUBGROUP_FEATURE_ARITHMETIC_BIT); the subgroup size is whatever the device runs (gl_SubgroupSize).
//   - linear_tile: the output tile one 16x16 workgroup of `linear` computes: 32, 64 or 128 (2x2, 4x4 or 8x8 per
//     thread). Larger tiles reuse each loaded value more but need more registers and shared memory.
// BERTSCOPE_VK_VARIANTS overrides the choice, e.g. "subgroups=off,tile=32": for tests, which run every variant on
// lavapipe, and for trying a variant on a real device.
#include <cstdint>
#include <string>

#include "gpu/vulkan_context.h"

namespace bertscope::gpu {

struct KernelVariants {
  bool subgroups = false;
  std::uint32_t subgroup_size = 0;  // what the device reports (informational; shaders read gl_SubgroupSize)
  std::uint32_t linear_tile = 64;
  std::string describe() const;  // e.g. "subgroups (size 32), linear tile 128"
};

// What the device supports, best first; then BERTSCOPE_VK_VARIANTS's overrides. Throws Error naming the choices for
// an unknown key or value, and for asking for subgroups where the device lacks them.
KernelVariants choose_kernel_variants(const VulkanContext& context);

// BERTSCOPE_VK_VARIANTS applied to `variants` (used by choose_kernel_variants; separate so tests can check parsing).
// `device_has_subgroups`: whether "subgroups=on" may be granted.
KernelVariants apply_variant_overrides(KernelVariants variants, const std::string& overrides, bool device_has_subgroups);

}  // namespace bertscope::gpu
