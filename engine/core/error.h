#pragma once
// One exception type for everything a user can cause (bad files, bad input, missing driver). The message says
// what failed and where (file, tensor, line); the CLI prints it, the GUI shows it. Assertions are for bugs only.
#include <stdexcept>
#include <string>

namespace bertscope {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A GPU that failed while working: VK_ERROR_DEVICE_LOST (the device is gone until it is created again) or
// VK_ERROR_OUT_OF_DEVICE_MEMORY. The job fails, but the model can be reloaded on the CPU, so callers offer that.
class DeviceError : public Error {
 public:
  enum class Kind { Lost, OutOfMemory };
  DeviceError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

}  // namespace bertscope
