#pragma once
// SafetensorsFile: a memory-mapped .safetensors file (8-byte little-endian header length, JSON header, raw data).
// Every header entry is checked against the file size when the file opens, so later reads never go out of bounds.
// Tensors are read one at a time (F32 as a view into the mapping; F16/BF16 converted), so a checkpoint is never
// copied through RAM twice.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace bertscope {

enum class StDType { F32, F16, BF16 };

struct StTensorInfo {
  StDType dtype;
  Shape shape;
  std::uint64_t begin = 0;  // byte offset into the data section
  std::uint64_t end = 0;
};

class MappedFile;

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();

  const std::filesystem::path& path() const { return path_; }
  const std::map<std::string, StTensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return tensors_.count(name) > 0; }
  std::uint64_t file_size() const;

  // The tensor as float32. For F32 data the span points into the mapping (kept alive by `keep_alive`);
  // otherwise it points into `converted`, which this call fills.
  std::span<const float> read_f32(const std::string& name, std::vector<float>& converted) const;
  std::shared_ptr<const void> keep_alive() const;

 private:
  std::filesystem::path path_;
  std::shared_ptr<MappedFile> map_;
  const std::uint8_t* data_ = nullptr;  // start of the data section
  std::map<std::string, StTensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

const char* dtype_name(StDType t);

// Writes tensors (F32 or F16) with a header sorted by name, as the safetensors library does. The file is written to
// `path` + ".tmp" and renamed, so a crash never leaves a half-written file under the final name.
struct StWriteTensor {
  std::string name;
  Shape shape;
  std::span<const float> data;
};
void write_safetensors(const std::filesystem::path& path, const std::vector<StWriteTensor>& tensors, StDType dtype,
                       const std::map<std::string, std::string>& metadata = {});

float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);
float bf16_to_float(std::uint16_t b);

}  // namespace bertscope
