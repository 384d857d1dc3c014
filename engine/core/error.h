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

}  // namespace bertscope
