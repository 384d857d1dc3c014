#pragma once
// Checkpoint: the weight files of a Hugging Face model folder seen as one set of named tensors: model.safetensors
// or the shards its index lists, or, when there is no safetensors, pytorch_model.bin or its shards. Resolves Hugging
// Face's naming variants: with or without the base model's prefix ("bert.", "distilbert.", "roberta."), and the
// legacy LayerNorm "gamma"/"beta".
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/safetensors.h"

namespace bertscope {

// One stored tensor read into memory as float32 (for tools that rewrite a whole checkpoint: convert, shrink).
struct LoadedTensor {
  Shape shape;
  std::vector<float> values;  // [product of shape]
};

class Checkpoint {
 public:
  explicit Checkpoint(const std::filesystem::path& folder);

  // The stored name for a canonical Hugging Face name (e.g. "bert.encoder.layer.0.attention.self.query.weight"),
  // or nullopt when no variant of it is present.
  std::optional<std::string> resolve(const std::string& canonical) const;
  bool has(const std::string& canonical) const { return resolve(canonical).has_value(); }

  // The tensor as float32 with its shape checked. Throws an Error naming the file, the tensor, and the expected
  // vs actual shape. `converted` receives the data when it had to be converted (F16/BF16).
  std::span<const float> read(const std::string& canonical, const Shape& expected, std::vector<float>& converted,
                              std::shared_ptr<const void>* keep_alive = nullptr) const;

  // Every tensor of every file, by stored name, as float32 (F16/BF16 converted).
  std::map<std::string, LoadedTensor> read_all() const;

  const TensorFile& file_of(const std::string& stored_name) const;
  std::uint64_t total_bytes() const;
  std::string dtype_summary() const;  // e.g. "F32" or "F16 + F32"
  std::int64_t parameter_count() const;
  const std::vector<std::unique_ptr<TensorFile>>& files() const { return files_; }

 private:
  std::filesystem::path folder_;
  std::vector<std::unique_ptr<TensorFile>> files_;
  std::map<std::string, size_t> owner_;  // stored tensor name -> index into files_
};

}  // namespace bertscope
