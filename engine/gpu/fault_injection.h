#pragma once
// Faults injected into the Vulkan backend on purpose, to test what bertscope does when a GPU computes wrong
// results or fails mid-job (the self-check, the move to the CPU). Off unless BERTSCOPE_FAULT_INJECT is set when a
// VulkanBackend is created; a comma-separated list of:
//   perturb:<kernel>  every dispatch of shaders/<kernel>.comp ends with the first element of each buffer it writes
//                     overwritten by 1000.0 (a wrong result, as a miscompiled shader or a bad driver would give);
//   device_lost[:N]   every queue submission after the first N (default 0) returns VK_ERROR_DEVICE_LOST;
//   oom[:N]           the same with VK_ERROR_OUT_OF_DEVICE_MEMORY.
// The failed submission is never handed to the driver, so the backend stays valid (and keeps failing).
#include <vulkan/vulkan.h>

#include <string>

namespace bertscope::gpu {

struct FaultInjection {
  std::string perturb_kernel;        // empty: none
  VkResult submit_error = VK_SUCCESS;  // VK_SUCCESS: submissions are not touched
  int good_submissions = 0;          // submissions that succeed before submit_error starts

  static constexpr float kPerturbedValue = 1000.0f;

  // Parses `spec` (the variable's syntax above); throws Error naming the variable on anything else.
  static FaultInjection parse(const std::string& spec);
  // From BERTSCOPE_FAULT_INJECT; no faults when it is unset or empty.
  static FaultInjection from_environment();

  bool active() const { return !perturb_kernel.empty() || submit_error != VK_SUCCESS; }
  // What a submission (0-based) should return instead of reaching the driver; VK_SUCCESS: submit for real.
  VkResult submission_result(int index) const { return index >= good_submissions ? submit_error : VK_SUCCESS; }
  std::string describe() const;  // e.g. "perturb:linear" (for the backend's name)
};

}  // namespace bertscope::gpu
