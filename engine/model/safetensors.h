#pragma once
// SafetensorsFile: a memory-mapped .safetensors file (8-byte little-endian header length, JSON header, raw data).
// Every header entry is checked against the file size when the file opens, so later reads never go out of bounds.
// Tensors are read one at a time (aligned F32 as a view into the mapping; other types converted), so a checkpoint is never
// copied through RAM twice.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/tensor_file.h"

namespace bertscope {

class SafetensorsFile : public TensorFile {
 public:
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile() override;

  const std::filesystem::path& path() const override { return path_; }
  const std::map<std::string, StTensorInfo>& tensors() const override { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::uint64_t file_size() const override;
  std::span<const float> read_f32(const std::string& name, std::vector<float>& converted) const override;
  std::shared_ptr<const void> keep_alive() const override;

 private:
  std::filesystem::path path_;
  std::shared_ptr<MappedFile> map_;
  const std::uint8_t* data_ = nullptr;  // start of the data section
  std::map<std::string, StTensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// Writes tensors (F32 or F16) with a header sorted by name, as the safetensors library does. The file is written to
// `path` + ".tmp" and renamed, so a crash never leaves a half-written file under the final name.
struct StWriteTensor {
  std::string name;
  Shape shape;
  std::span<const float> data;
};
void write_safetensors(const std::filesystem::path& path, const std::vector<StWriteTensor>& tensors, StDType dtype,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace bertscope
