#include "core/tensor.h"

#include "core/error.h"

namespace bertscope {

std::int64_t element_count(const Shape& shape) {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > (std::int64_t{1} << 62))
      throw Error("tensor shape " + shape_to_string(shape) + " is negative or too large");
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace bertscope
