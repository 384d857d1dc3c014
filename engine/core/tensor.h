#pragma once
// Tensor: a float32 or int32 (or float16, see DType) array living on one backend (host memory for the CPU backend,
// a VkBuffer for Vulkan). One owner (move-only); ops take `const Tensor&` views. Shapes are row-major, last
// dimension contiguous.
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

namespace bertscope {

// F16: weight matrices of a model opened for inference, on a backend that keeps them at half precision (the
// Vulkan backend's f16 variant, gpu/kernel_variants.h); ops read them as float32.
enum class DType { F32, I32, F16 };

using Shape = std::vector<std::int64_t>;

// The product of the dimensions; throws Error for a negative dimension or a product past 2^62 (a hostile file's
// shape must not wrap around to a small number).
std::int64_t element_count(const Shape& shape);

std::string shape_to_string(const Shape& shape);

// Backend-specific memory behind a tensor.
class TensorStorage {
 public:
  virtual ~TensorStorage() = default;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::unique_ptr<TensorStorage> storage, Shape shape, DType dtype)
      : storage_(std::move(storage)), shape_(std::move(shape)), dtype_(dtype) {}

  const Shape& shape() const { return shape_; }
  std::int64_t dim(int i) const { return shape_.at(i < 0 ? shape_.size() + i : i); }
  std::int64_t numel() const { return element_count(shape_); }
  DType dtype() const { return dtype_; }
  bool empty() const { return storage_ == nullptr; }
  TensorStorage* storage() const { return storage_.get(); }

 private:
  std::unique_ptr<TensorStorage> storage_;
  Shape shape_;
  DType dtype_ = DType::F32;
};

}  // namespace bertscope
