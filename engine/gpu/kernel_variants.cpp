#include "gpu/kernel_variants.h"

#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace bertscope::gpu {
namespace {

struct SubgroupSupport {
  bool arithmetic = false;  // subgroupAdd/subgroupMax in compute shaders
  std::uint32_t size = 0;
};

SubgroupSupport subgroup_support(const VulkanContext& context) {
  if (context.info().api_version < VK_API_VERSION_1_1) return {};  // subgroup properties are Vulkan 1.1's
  VkPhysicalDeviceSubgroupProperties subgroup{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
  VkPhysicalDeviceProperties2 properties{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
  properties.pNext = &subgroup;
  vkGetPhysicalDeviceProperties2(context.physical_device(), &properties);
  SubgroupSupport s;
  s.size = subgroup.subgroupSize;
  s.arithmetic = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                 (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                 // The shaders' row workgroups (128 threads) must split into whole subgroups.
                 s.size >= 4 && s.size <= 128 && (s.size & (s.size - 1)) == 0;
  return s;
}

// The tile from the device's kind and limits. A discrete GPU has the registers and shared memory for 8x8 outputs a
// thread (17 KB of shared memory for the 128-wide tile); an integrated GPU shares its memory bandwidth and register
// file with less, and a CPU driver gains nothing from a larger tile, so both keep 4x4.
std::uint32_t linear_tile_for(const VulkanContext& context) {
  const bool discrete = context.info().vk_type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  if (discrete && context.limits().maxComputeSharedMemorySize >= 32 * 1024) return 128;
  return 64;
}

}  // namespace

std::string KernelVariants::describe() const {
  std::ostringstream s;
  if (subgroups)
    s << "subgroups (size " << subgroup_size << ")";
  else
    s << "no subgroups";
  s << ", linear tile " << linear_tile << (f16 ? ", f16 weights" : ", f32 weights");
  return s.str();
}

KernelVariants apply_variant_overrides(KernelVariants variants, const std::string& overrides,
                                       DeviceSupport device) {
  std::istringstream in(overrides);
  std::string item;
  const std::string usage =
      " (BERTSCOPE_VK_VARIANTS takes comma-separated subgroups=on|off, tile=32|64|128 and f16=on|off)";
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string key = item.substr(0, eq), value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "subgroups" && (value == "on" || value == "off")) {
      if (value == "on" && !device.subgroups)
        throw Error("BERTSCOPE_VK_VARIANTS asks for subgroups, but this Vulkan device has no compute subgroup arithmetic");
      variants.subgroups = value == "on";
    } else if (key == "f16" && (value == "on" || value == "off")) {
      if (value == "on" && !device.f16_storage)
        throw Error("BERTSCOPE_VK_VARIANTS asks for f16, but this Vulkan device has no 16-bit storage buffer access");
      variants.f16 = value == "on";
    } else if (key == "tile" && (value == "32" || value == "64" || value == "128")) {
      variants.linear_tile = static_cast<std::uint32_t>(std::stoul(value));
    } else {
      throw Error("BERTSCOPE_VK_VARIANTS: cannot use '" + item + "'" + usage);
    }
  }
  return variants;
}

KernelVariants choose_kernel_variants(const VulkanContext& context) {
  const SubgroupSupport subgroup = subgroup_support(context);
  KernelVariants variants;
  variants.subgroups = subgroup.arithmetic;
  variants.subgroup_size = subgroup.size;
  variants.linear_tile = linear_tile_for(context);
  // F16 weights where the device can read them, except on a CPU driver (lavapipe): there the weights sit in the
  // same RAM the "GPU" computes from, so halving them buys little speed for a conversion per weight per pass, and
  // such a device is where outputs are checked against Hugging Face at 1e-4, tighter than F16 weights allow.
  variants.f16 = context.storage_buffer_16bit() && !context.info().software();
  const char* overrides = std::getenv("BERTSCOPE_VK_VARIANTS");
  const DeviceSupport device{subgroup.arithmetic, context.storage_buffer_16bit()};
  return overrides ? apply_variant_overrides(variants, overrides, device) : variants;
}

}  // namespace bertscope::gpu
