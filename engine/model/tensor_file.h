#pragma once
// TensorFile: one file of stored tensors (a .safetensors file, a pytorch_model.bin) seen the same way: names,
// dtypes and shapes up front, each tensor read on demand as float32. Checkpoint gathers one or more of them.
// Also the pieces formats share: the element types, their conversion to float32, and a read-only memory map.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace bertscope {

// Element types as safetensors names them. Models compute in float32; integer tensors in checkpoints are buffers
// (e.g. "embeddings.position_ids", int64), read as floats when asked for and otherwise ignored.
enum class StDType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };

const char* dtype_name(StDType t);        // "F32", "BF16", "I64", ...
std::uint64_t dtype_size(StDType t);      // bytes per element
bool is_floating(StDType t);              // F32, F16, BF16, F64
// Converts `count` little-endian elements at `src` (any alignment) to float32.
void convert_to_f32(StDType t, const std::uint8_t* src, std::size_t count, float* out);

float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);
float bf16_to_float(std::uint16_t b);

struct StTensorInfo {
  StDType dtype = StDType::F32;
  Shape shape;
  std::uint64_t begin = 0;  // format-specific location of the data (safetensors: byte offsets into the data section)
  std::uint64_t end = 0;
};

class TensorFile {
 public:
  virtual ~TensorFile() = default;
  virtual const std::filesystem::path& path() const = 0;
  virtual std::uint64_t file_size() const = 0;
  // Every tensor's dtype and shape, checked against the file when it was opened: reads never go out of bounds.
  virtual const std::map<std::string, StTensorInfo>& tensors() const = 0;
  bool contains(const std::string& name) const { return tensors().count(name) > 0; }
  // The tensor as float32. When the stored data already is aligned, contiguous float32 the span may point into the
  // file's memory map (kept alive by keep_alive()); otherwise it points into `converted`, which this call fills.
  virtual std::span<const float> read_f32(const std::string& name, std::vector<float>& converted) const = 0;
  virtual std::shared_ptr<const void> keep_alive() const = 0;
};

// RAII read-only memory mapping of a whole file (empty files map to nothing).
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const std::uint8_t* data() const { return data_; }
  std::uint64_t size() const { return size_; }

 private:
  const std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace bertscope
