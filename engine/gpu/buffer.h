#pragma once
// Buffer: one VkBuffer with its own memory (RAII, move-only). Mapped when its memory is host-visible (lavapipe,
// integrated GPUs); otherwise data moves through staging buffers (see VulkanBackend).
#include <vulkan/vulkan.h>

#include "gpu/vulkan_context.h"

namespace bertscope::gpu {

enum class MemoryUse {
  Device,   // device-local; mapped only where device memory is host-visible anyway (software / integrated)
  Staging,  // host-visible, coherent: uploads and read-backs through it
};

class Buffer {
 public:
  Buffer(const VulkanContext& ctx, VkDeviceSize bytes, MemoryUse use);
  ~Buffer();
  Buffer(Buffer&& other) noexcept;
  Buffer& operator=(Buffer&&) = delete;
  Buffer(const Buffer&) = delete;

  VkBuffer handle() const { return buffer_; }
  VkDeviceSize size() const { return size_; }
  void* mapped() const { return mapped_; }  // nullptr when not host-visible

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  VkDeviceSize size_ = 0;
  void* mapped_ = nullptr;
};

}  // namespace bertscope::gpu
