#include "gpu/fault_injection.h"

#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace bertscope::gpu {

namespace {
constexpr const char* kVariable = "BERTSCOPE_FAULT_INJECT";

[[noreturn]] void refuse(const std::string& spec, const std::string& why) {
  throw Error(std::string(kVariable) + "='" + spec + "': " + why +
              " (expected a comma-separated list of perturb:<kernel>, device_lost[:N], oom[:N])");
}
}  // namespace

FaultInjection FaultInjection::parse(const std::string& spec) {
  FaultInjection f;
  std::stringstream items(spec);
  for (std::string item; std::getline(items, item, ',');) {
    if (item.empty()) continue;
    const auto colon = item.find(':');
    const std::string name = item.substr(0, colon), arg = colon == std::string::npos ? "" : item.substr(colon + 1);
    if (name == "perturb") {
      if (arg.empty()) refuse(spec, "perturb needs a kernel name");
      f.perturb_kernel = arg;  // checked against the kernels by VulkanBackend
    } else if (name == "device_lost" || name == "oom") {
      f.submit_error = name == "oom" ? VK_ERROR_OUT_OF_DEVICE_MEMORY : VK_ERROR_DEVICE_LOST;
      f.good_submissions = 0;
      if (!arg.empty()) {
        char* end = nullptr;
        const long n = std::strtol(arg.c_str(), &end, 10);
        if (*end != '\0' || n < 0 || n > 1000000) refuse(spec, "'" + arg + "' is not a count of submissions");
        f.good_submissions = static_cast<int>(n);
      }
    } else {
      refuse(spec, "unknown fault '" + name + "'");
    }
  }
  return f;
}

FaultInjection FaultInjection::from_environment() {
  const char* spec = std::getenv(kVariable);
  return spec ? parse(spec) : FaultInjection{};
}

std::string FaultInjection::describe() const {
  std::string s;
  if (!perturb_kernel.empty()) s += "perturb:" + perturb_kernel;
  if (submit_error != VK_SUCCESS) {
    if (!s.empty()) s += ",";
    s += submit_error == VK_ERROR_DEVICE_LOST ? "device_lost" : "oom";
    s += ":" + std::to_string(good_submissions);
  }
  return s;
}

}  // namespace bertscope::gpu
