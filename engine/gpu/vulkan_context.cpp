#include "gpu/vulkan_context.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace bertscope::gpu {

namespace {

const char* result_name(VkResult r) {
  switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "out of host memory";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "out of device memory";
    case VK_ERROR_INITIALIZATION_FAILED: return "initialization failed";
    case VK_ERROR_DEVICE_LOST: return "device lost";
    case VK_ERROR_LAYER_NOT_PRESENT: return "layer not present";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "extension not present";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "incompatible driver (no Vulkan driver installed?)";
    default: return "error";
  }
}

std::string type_name(VkPhysicalDeviceType t) {
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU (software Vulkan)";
    default: return "other";
  }
}

int type_rank(VkPhysicalDeviceType t) {  // lower is preferred
  switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
  }
}

VulkanDeviceInfo describe(int index, const VkPhysicalDeviceProperties& p) {
  VulkanDeviceInfo info{index, p.deviceName, type_name(p.deviceType), p.deviceType};
  info.vendor_id = p.vendorID;
  info.device_id = p.deviceID;
  info.driver_version = p.driverVersion;
  info.api_version = p.apiVersion;
  return info;
}

bool has_layer(const char* name) {
  std::uint32_t n = 0;
  vkEnumerateInstanceLayerProperties(&n, nullptr);
  std::vector<VkLayerProperties> layers(n);
  vkEnumerateInstanceLayerProperties(&n, layers.data());
  return std::any_of(layers.begin(), layers.end(), [&](auto& l) { return std::strcmp(l.layerName, name) == 0; });
}

bool has_device_extension(VkPhysicalDevice pd, const char* name) {
  std::uint32_t n = 0;
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, nullptr);
  std::vector<VkExtensionProperties> ext(n);
  vkEnumerateDeviceExtensionProperties(pd, nullptr, &n, ext.data());
  return std::any_of(ext.begin(), ext.end(), [&](auto& e) { return std::strcmp(e.extensionName, name) == 0; });
}

VkInstance create_instance(bool validation, bool* debug_utils) {
  VkApplicationInfo app{VK_STRUCTURE_TYPE_APPLICATION_INFO};
  app.pApplicationName = "bertscope";
  app.apiVersion = VK_API_VERSION_1_1;
  std::vector<const char*> layers, extensions;
  VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT features{VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT};
  features.enabledValidationFeatureCount = 1;
  features.pEnabledValidationFeatures = enables;
  *debug_utils = false;
  if (validation) {
    if (!has_layer("VK_LAYER_KHRONOS_validation"))
      throw Error("Vulkan validation was requested but VK_LAYER_KHRONOS_validation is not installed "
                  "(Debian: apt install vulkan-validationlayers)");
    layers.push_back("VK_LAYER_KHRONOS_validation");
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
    *debug_utils = true;
  }
  VkInstanceCreateInfo ci{VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
  ci.pApplicationInfo = &app;
  ci.enabledLayerCount = static_cast<std::uint32_t>(layers.size());
  ci.ppEnabledLayerNames = layers.data();
  ci.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
  ci.ppEnabledExtensionNames = extensions.data();
  if (validation) ci.pNext = &features;
  VkInstance instance = VK_NULL_HANDLE;
  VkResult r = vkCreateInstance(&ci, nullptr, &instance);
  if (r != VK_SUCCESS)
    throw Error(std::string("cannot start Vulkan: vkCreateInstance failed (") + result_name(r) +
                "); install a Vulkan driver (Debian: mesa-vulkan-drivers) or use --backend cpu");
  return instance;
}

}  // namespace

void check(VkResult result, const char* what) {
  if (result == VK_SUCCESS) return;
  if (result == VK_ERROR_DEVICE_LOST)
    throw DeviceError(DeviceError::Kind::Lost, std::string("the GPU stopped working: ") + what +
                                                   " returned VK_ERROR_DEVICE_LOST");
  if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY)
    throw DeviceError(DeviceError::Kind::OutOfMemory, std::string("the GPU ran out of memory: ") + what +
                                                          " returned VK_ERROR_OUT_OF_DEVICE_MEMORY");
  throw Error(std::string("Vulkan: ") + what + " failed (" + result_name(result) + ")");
}

int VulkanContext::preferred_device(const std::vector<VulkanDeviceInfo>& devices) {
  int chosen = -1, best_rank = 99;
  for (const auto& d : devices)
    if (type_rank(d.vk_type) < best_rank) best_rank = type_rank(d.vk_type), chosen = d.index;
  return chosen;
}

std::vector<VulkanDeviceInfo> VulkanContext::list_devices() {
  std::vector<VulkanDeviceInfo> out;
  bool debug = false;
  VkInstance instance;
  try {
    instance = create_instance(false, &debug);
  } catch (const Error&) {
    return out;
  }
  std::uint32_t n = 0;
  vkEnumeratePhysicalDevices(instance, &n, nullptr);
  std::vector<VkPhysicalDevice> devices(n);
  vkEnumeratePhysicalDevices(instance, &n, devices.data());
  for (std::uint32_t i = 0; i < n; ++i) {
    VkPhysicalDeviceProperties p;
    vkGetPhysicalDeviceProperties(devices[i], &p);
    out.push_back(describe(static_cast<int>(i), p));
  }
  vkDestroyInstance(instance, nullptr);
  return out;
}

VulkanContext::VulkanContext(int device_index, bool validation) {
  bool debug_utils = false;
  instance_ = create_instance(validation, &debug_utils);
  try {
    if (debug_utils) {
      auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
          vkGetInstanceProcAddr(instance_, "vkCreateDebugUtilsMessengerEXT"));
      VkDebugUtilsMessengerCreateInfoEXT mi{VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
      mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
      mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
      mi.pfnUserCallback = &VulkanContext::on_debug_message;
      mi.pUserData = this;
      if (create) check(create(instance_, &mi, nullptr, &messenger_), "vkCreateDebugUtilsMessengerEXT");
    }
    std::uint32_t n = 0;
    vkEnumeratePhysicalDevices(instance_, &n, nullptr);
    std::vector<VkPhysicalDevice> devices(n);
    vkEnumeratePhysicalDevices(instance_, &n, devices.data());
    if (n == 0) throw Error("no Vulkan device found (install a GPU driver or mesa-vulkan-drivers, or use --backend cpu)");
    int chosen = -1;
    if (device_index >= 0) {
      if (device_index >= static_cast<int>(n))
        throw Error("Vulkan device " + std::to_string(device_index) + " does not exist; this machine has " +
                    std::to_string(n) + " (see bertscope-cli devices)");
      chosen = device_index;
    } else {
      std::vector<VulkanDeviceInfo> infos;
      for (std::uint32_t i = 0; i < n; ++i) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devices[i], &p);
        infos.push_back(describe(static_cast<int>(i), p));
      }
      chosen = preferred_device(infos);
    }
    physical_ = devices[chosen];
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(physical_, &props);
    info_ = describe(chosen, props);
    limits_ = props.limits;
    vkGetPhysicalDeviceMemoryProperties(physical_, &memory_);
    if (!has_device_extension(physical_, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME))
      throw Error("Vulkan device '" + info_.name + "' lacks VK_KHR_push_descriptor, which bertscope needs");

    std::uint32_t qn = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &qn, nullptr);
    std::vector<VkQueueFamilyProperties> families(qn);
    vkGetPhysicalDeviceQueueFamilyProperties(physical_, &qn, families.data());
    int family = -1;
    for (std::uint32_t i = 0; i < qn && family < 0; ++i)
      if (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) family = static_cast<int>(i);
    if (family < 0) throw Error("Vulkan device '" + info_.name + "' has no compute queue");

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qi{VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qi.queueFamilyIndex = static_cast<std::uint32_t>(family);
    qi.queueCount = 1;
    qi.pQueuePriorities = &priority;
    const char* extensions[] = {VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME};
    // 16-bit storage (core in Vulkan 1.1): on where the device has it, for the f16 weight variant.
    VkPhysicalDevice16BitStorageFeatures storage16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    if (info_.api_version >= VK_API_VERSION_1_1) {
      VkPhysicalDeviceFeatures2 features{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2};
      features.pNext = &storage16;
      vkGetPhysicalDeviceFeatures2(physical_, &features);
    }
    storage_buffer_16bit_ = storage16.storageBuffer16BitAccess == VK_TRUE;
    VkPhysicalDevice16BitStorageFeatures enable16{VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    enable16.storageBuffer16BitAccess = VK_TRUE;  // only this one: the shaders read 16-bit values, nothing else
    VkDeviceCreateInfo di{VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    if (storage_buffer_16bit_) di.pNext = &enable16;
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    di.enabledExtensionCount = 1;
    di.ppEnabledExtensionNames = extensions;
    check(vkCreateDevice(physical_, &di, nullptr, &device_), "vkCreateDevice");
    vkGetDeviceQueue(device_, static_cast<std::uint32_t>(family), 0, &queue_);
    push_descriptor_ = reinterpret_cast<PFN_vkCmdPushDescriptorSetKHR>(vkGetDeviceProcAddr(device_, "vkCmdPushDescriptorSetKHR"));
    if (!push_descriptor_) throw Error("Vulkan: vkCmdPushDescriptorSetKHR is unavailable");
    VkCommandPoolCreateInfo pi{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pi.queueFamilyIndex = static_cast<std::uint32_t>(family);
    check(vkCreateCommandPool(device_, &pi, nullptr, &pool_), "vkCreateCommandPool");
  } catch (...) {
    release();
    throw;
  }
}

VulkanContext::~VulkanContext() { release(); }

void VulkanContext::release() {
  if (pool_) vkDestroyCommandPool(device_, pool_, nullptr);
  if (device_) vkDestroyDevice(device_, nullptr);
  if (messenger_) {
    auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance_, "vkDestroyDebugUtilsMessengerEXT"));
    if (destroy) destroy(instance_, messenger_, nullptr);
  }
  if (instance_) vkDestroyInstance(instance_, nullptr);
  pool_ = VK_NULL_HANDLE;
  device_ = VK_NULL_HANDLE;
  messenger_ = VK_NULL_HANDLE;
  instance_ = VK_NULL_HANDLE;
}

int VulkanContext::find_memory_type(std::uint32_t type_bits, VkMemoryPropertyFlags required,
                                    VkMemoryPropertyFlags preferred) const {
  int fallback = -1;
  for (std::uint32_t i = 0; i < memory_.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    const VkMemoryPropertyFlags f = memory_.memoryTypes[i].propertyFlags;
    if ((f & required) != required) continue;
    if ((f & preferred) == preferred) return static_cast<int>(i);
    if (fallback < 0) fallback = static_cast<int>(i);
  }
  return fallback;
}

std::vector<std::string> VulkanContext::validation_messages() const {
  std::lock_guard lock(messages_mutex_);
  return messages_;
}

VKAPI_ATTR VkBool32 VKAPI_CALL VulkanContext::on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                               VkDebugUtilsMessageTypeFlagsEXT,
                                                               const VkDebugUtilsMessengerCallbackDataEXT* data,
                                                               void* self) {
  auto* ctx = static_cast<VulkanContext*>(self);
  ctx->validation_messages_++;
  std::lock_guard lock(ctx->messages_mutex_);
  if (ctx->messages_.size() < 100) ctx->messages_.push_back(data && data->pMessage ? data->pMessage : "(no text)");
  (void)severity;
  return VK_FALSE;
}

}  // namespace bertscope::gpu
