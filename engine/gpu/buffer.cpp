#include "gpu/buffer.h"

#include "core/error.h"

namespace bertscope::gpu {

Buffer::Buffer(const VulkanContext& ctx, VkDeviceSize bytes, MemoryUse use) : device_(ctx.device()) {
  size_ = bytes < 4 ? 4 : bytes;  // Vulkan forbids empty buffers
  VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  bi.size = size_;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  check(vkCreateBuffer(device_, &bi, nullptr, &buffer_), "vkCreateBuffer");
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(device_, buffer_, &req);
  const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const bool discrete = ctx.info().vk_type == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU;
  int type;
  if (use == MemoryUse::Staging) {
    type = ctx.find_memory_type(req.memoryTypeBits, host, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  } else if (discrete) {  // keep the small host-visible BAR heap free: plain device memory + staging
    type = ctx.find_memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
  } else {
    type = ctx.find_memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, host);
  }
  if (type < 0) type = ctx.find_memory_type(req.memoryTypeBits, 0, 0);
  VkMemoryAllocateInfo ai{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = static_cast<std::uint32_t>(type);
  VkResult r = vkAllocateMemory(device_, &ai, nullptr, &memory_);
  if (r != VK_SUCCESS) {
    vkDestroyBuffer(device_, buffer_, nullptr);
    const std::string what = "Vulkan: cannot allocate " + std::to_string(bytes >> 20) + " MiB of GPU memory";
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY)
      throw DeviceError(DeviceError::Kind::OutOfMemory, what + " (VK_ERROR_OUT_OF_DEVICE_MEMORY)");
    throw Error(what);
  }
  vkBindBufferMemory(device_, buffer_, memory_, 0);
  VkPhysicalDeviceMemoryProperties props;
  vkGetPhysicalDeviceMemoryProperties(ctx.physical_device(), &props);
  if ((props.memoryTypes[type].propertyFlags & host) == host)
    check(vkMapMemory(device_, memory_, 0, VK_WHOLE_SIZE, 0, &mapped_), "vkMapMemory");
}

Buffer::Buffer(Buffer&& o) noexcept
    : device_(o.device_), buffer_(o.buffer_), memory_(o.memory_), size_(o.size_), mapped_(o.mapped_) {
  o.buffer_ = VK_NULL_HANDLE;
  o.memory_ = VK_NULL_HANDLE;
  o.mapped_ = nullptr;
}

Buffer::~Buffer() {
  if (buffer_) vkDestroyBuffer(device_, buffer_, nullptr);
  if (memory_) vkFreeMemory(device_, memory_, nullptr);  // unmaps implicitly
}

}  // namespace bertscope::gpu
