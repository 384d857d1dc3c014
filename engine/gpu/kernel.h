#pragma once
// Kernel: a compute pipeline built from one embedded shader, with push descriptors for its storage buffers and a
// push-constant block. The C++ side declares how many buffers, which of them the shader writes, and the push-constant
// size; every dispatch is checked against that declaration, so the C++/GLSL interface cannot drift silently.
#include <vulkan/vulkan.h>

#include <cstdint>
#include <string>

#include "gpu/kernel_variants.h"
#include "gpu/vulkan_context.h"

namespace bertscope::gpu {

struct KernelSpec {
  const char* name;          // shaders/<name>.comp
  std::uint32_t buffers;     // bindings 0 .. buffers-1, all storage buffers
  std::uint32_t write_mask;  // bit i set: binding i is written
  std::uint32_t push_bytes;  // size of the push-constant block
  std::uint32_t workgroup;   // value of specialization constant 0 (local_size_x_id), 0 when the shader fixes it
  bool tiled = false;        // specialization constant 1 is the per-thread tile (KernelVariants::linear_tile / 16)
  std::uint32_t f16_mask = 0;  // bit i set: binding i holds F16 values (DType::F16); every other binding holds none
};

class Kernel {
 public:
  // The SPIR-V is spec.name's, or its NAME_subgroups form where one exists and `variants` asks for subgroups.
  Kernel(const VulkanContext& ctx, const KernelSpec& spec, const KernelVariants& variants);
  ~Kernel();
  Kernel(const Kernel&) = delete;
  Kernel& operator=(const Kernel&) = delete;

  const KernelSpec& spec() const { return spec_; }
  const std::string& shader() const { return shader_; }  // the SPIR-V module it runs
  VkPipeline pipeline() const { return pipeline_; }
  VkPipelineLayout layout() const { return layout_; }

 private:
  VkDevice device_;
  KernelSpec spec_;
  std::string shader_;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
};

}  // namespace bertscope::gpu
