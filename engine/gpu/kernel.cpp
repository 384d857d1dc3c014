#include "gpu/kernel.h"

#include <vector>

#include "core/error.h"
#include "gpu/shader_registry.h"

namespace bertscope::gpu {

Kernel::Kernel(const VulkanContext& ctx, const KernelSpec& spec, const KernelVariants& variants)
    : device_(ctx.device()), spec_(spec), shader_(spec.name) {
  if (variants.subgroups && !shader_spirv(shader_ + "_subgroups").empty()) shader_ += "_subgroups";
  auto spirv = shader_spirv(shader_);
  if (spirv.empty()) throw Error(std::string("internal: no compiled shader named ") + spec.name);
  VkShaderModuleCreateInfo mi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  mi.codeSize = spirv.size() * 4;
  mi.pCode = spirv.data();
  check(vkCreateShaderModule(device_, &mi, nullptr, &module_), "vkCreateShaderModule");

  std::vector<VkDescriptorSetLayoutBinding> bindings(spec.buffers);
  for (std::uint32_t i = 0; i < spec.buffers; ++i)
    bindings[i] = {i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
  VkDescriptorSetLayoutCreateInfo li{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  li.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
  li.bindingCount = spec.buffers;
  li.pBindings = bindings.data();
  check(vkCreateDescriptorSetLayout(device_, &li, nullptr, &set_layout_), "vkCreateDescriptorSetLayout");

  VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, spec.push_bytes};
  VkPipelineLayoutCreateInfo pli{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  pli.setLayoutCount = 1;
  pli.pSetLayouts = &set_layout_;
  pli.pushConstantRangeCount = spec.push_bytes ? 1 : 0;
  pli.pPushConstantRanges = &range;
  check(vkCreatePipelineLayout(device_, &pli, nullptr, &layout_), "vkCreatePipelineLayout");

  // Constant 0: the workgroup size; constant 1 (tiled kernels): outputs per thread along each side of the tile.
  const std::uint32_t constants[2] = {spec_.workgroup, variants.linear_tile / 16};
  const VkSpecializationMapEntry entries[2] = {{0, 0, sizeof(std::uint32_t)}, {1, sizeof(std::uint32_t), sizeof(std::uint32_t)}};
  VkSpecializationInfo si{};
  if (spec.tiled) {
    si = {2, entries, sizeof constants, constants};
  } else {
    si = {1, entries, sizeof(std::uint32_t), constants};
  }
  VkComputePipelineCreateInfo ci{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  ci.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module_;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = spec.workgroup || spec.tiled ? &si : nullptr;
  ci.layout = layout_;
  check(vkCreateComputePipelines(device_, VK_NULL_HANDLE, 1, &ci, nullptr, &pipeline_), "vkCreateComputePipelines");
}

Kernel::~Kernel() {
  if (pipeline_) vkDestroyPipeline(device_, pipeline_, nullptr);
  if (layout_) vkDestroyPipelineLayout(device_, layout_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(device_, set_layout_, nullptr);
  if (module_) vkDestroyShaderModule(device_, module_, nullptr);
}

}  // namespace bertscope::gpu
