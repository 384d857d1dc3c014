#pragma once
// VulkanContext: instance, chosen physical device, logical device, one compute queue, a command pool.
// Device choice: discrete GPU, then integrated, then virtual, then CPU (lavapipe); or an explicit index.
// With validation on, the Khronos validation layer (with synchronization validation) reports through a debug
// messenger; every warning or error is counted and kept, so tests can fail on any message.
#include <vulkan/vulkan.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace bertscope::gpu {

struct VulkanDeviceInfo {
  int index = 0;
  std::string name;
  std::string type;  // "discrete GPU", "integrated GPU", "virtual GPU", "CPU (software)"
  VkPhysicalDeviceType vk_type = VK_PHYSICAL_DEVICE_TYPE_OTHER;
  // What identifies a device and its driver (for remembering a self-check verdict): PCI-style ids and the
  // driver's own version number (its encoding is the vendor's).
  std::uint32_t vendor_id = 0, device_id = 0, driver_version = 0, api_version = 0;
  bool software() const { return vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU; }
};

class VulkanContext {
 public:
  // device_index < 0: choose the best. Throws Error when Vulkan or a suitable device is missing.
  VulkanContext(int device_index, bool validation);
  ~VulkanContext();
  VulkanContext(const VulkanContext&) = delete;
  VulkanContext& operator=(const VulkanContext&) = delete;

  // All Vulkan devices on this machine (empty when there is no loader or driver).
  static std::vector<VulkanDeviceInfo> list_devices();
  // The index the constructor picks for device_index < 0 (discrete, integrated, virtual, software); -1 if none.
  static int preferred_device(const std::vector<VulkanDeviceInfo>& devices);

  VkDevice device() const { return device_; }
  VkPhysicalDevice physical_device() const { return physical_; }
  VkQueue queue() const { return queue_; }
  VkCommandPool command_pool() const { return pool_; }
  const VulkanDeviceInfo& info() const { return info_; }
  const VkPhysicalDeviceLimits& limits() const { return limits_; }
  PFN_vkCmdPushDescriptorSetKHR push_descriptor_fn() const { return push_descriptor_; }
  // Whether shaders may read and write 16-bit values in storage buffers (enabled at device creation where the
  // device has it; the f16 kernel variant needs it, gpu/kernel_variants.h).
  bool storage_buffer_16bit() const { return storage_buffer_16bit_; }

  // Index of a memory type with `required` flags (and `preferred` ones if possible); -1 if none.
  int find_memory_type(std::uint32_t type_bits, VkMemoryPropertyFlags required, VkMemoryPropertyFlags preferred) const;

  int validation_message_count() const { return validation_messages_.load(); }
  std::vector<std::string> validation_messages() const;

 private:
  void release();  // destroys every handle created so far (also after a failed constructor)
  static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                         VkDebugUtilsMessageTypeFlagsEXT types,
                                                         const VkDebugUtilsMessengerCallbackDataEXT* data, void* self);

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VulkanDeviceInfo info_;
  VkPhysicalDeviceLimits limits_{};
  VkPhysicalDeviceMemoryProperties memory_{};
  PFN_vkCmdPushDescriptorSetKHR push_descriptor_ = nullptr;
  bool storage_buffer_16bit_ = false;
  std::atomic<int> validation_messages_{0};
  mutable std::mutex messages_mutex_;
  std::vector<std::string> messages_;
};

// Throws Error with the call and result name when a Vulkan call fails; DeviceError for a lost device or
// exhausted device memory (the caller can move to the CPU).
void check(VkResult result, const char* what);

}  // namespace bertscope::gpu
