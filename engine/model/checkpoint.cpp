#include "model/checkpoint.h"

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace fs = std::filesystem;

namespace bertscope {

Checkpoint::Checkpoint(const fs::path& folder) : folder_(folder) {
  std::vector<fs::path> paths;
  const fs::path single = folder / "model.safetensors";
  const fs::path index = folder / "model.safetensors.index.json";
  if (fs::exists(single)) {
    paths.push_back(single);
  } else if (fs::exists(index)) {
    nlohmann::json j;
    try {
      std::ifstream in(index);
      in >> j;
    } catch (const nlohmann::json::exception& e) {
      throw Error(index.string() + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(index.string() + ": no \"weight_map\" object");
    std::set<std::string> shards;
    for (const auto& [name, file] : j["weight_map"].items()) {
      if (!file.is_string()) throw Error(index.string() + ": weight_map entry for '" + name + "' is not a file name");
      const std::string f = file.get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
        throw Error(index.string() + ": shard name '" + f + "' must be a plain file name in the model folder");
      shards.insert(f);
    }
    for (const auto& s : shards) {
      if (!fs::exists(folder / s)) throw Error(index.string() + ": lists shard '" + s + "', which is missing from the folder");
      paths.push_back(folder / s);
    }
  } else if (fs::exists(folder / "pytorch_model.bin")) {
    throw Error(folder.string() + ": has only pytorch_model.bin; bertscope reads safetensors (convert it with "
                "transformers: model.save_pretrained(dir, safe_serialization=True))");
  } else {
    throw Error(folder.string() + ": no model.safetensors (or model.safetensors.index.json) in this folder");
  }
  for (const auto& p : paths) {
    files_.push_back(std::make_unique<SafetensorsFile>(p));
    for (const auto& [name, info] : files_.back()->tensors()) {
      if (owner_.count(name)) throw Error(p.string() + ": tensor '" + name + "' also appears in another shard");
      owner_[name] = files_.size() - 1;
    }
  }
}

std::optional<std::string> Checkpoint::resolve(const std::string& canonical) const {
  std::vector<std::string> candidates = {canonical};
  if (canonical.rfind("bert.", 0) == 0) candidates.push_back(canonical.substr(5));
  for (size_t i = 0, n = candidates.size(); i < n; ++i) {  // legacy TF-port names
    const std::string c = candidates[i];  // a copy: push_back below may reallocate
    auto ends = [&](const std::string& suffix) {
      return c.size() >= suffix.size() && c.compare(c.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends("LayerNorm.weight")) candidates.push_back(c.substr(0, c.size() - 6) + "gamma");
    if (ends("LayerNorm.bias")) candidates.push_back(c.substr(0, c.size() - 4) + "beta");
  }
  for (const auto& c : candidates)
    if (owner_.count(c)) return c;
  return std::nullopt;
}

const TensorFile& Checkpoint::file_of(const std::string& stored_name) const {
  return *files_.at(owner_.at(stored_name));
}

std::span<const float> Checkpoint::read(const std::string& canonical, const Shape& expected,
                                        std::vector<float>& converted, std::shared_ptr<const void>* keep_alive) const {
  auto stored = resolve(canonical);
  if (!stored) {
    std::string where = files_.size() == 1 ? files_[0]->path().string() : folder_.string() + " (sharded checkpoint)";
    throw Error(where + ": missing tensor '" + canonical + "' (expected shape " + shape_to_string(expected) + ")");
  }
  const TensorFile& file = file_of(*stored);
  const StTensorInfo& info = file.tensors().at(*stored);
  if (info.shape != expected)
    throw Error(file.path().string() + ": tensor '" + *stored + "' has shape " + shape_to_string(info.shape) +
                ", expected " + shape_to_string(expected) + " (from config.json)");
  if (!is_floating(info.dtype))
    throw Error(file.path().string() + ": tensor '" + *stored + "' is " + dtype_name(info.dtype) +
                "; model weights must be floating point");
  auto data = file.read_f32(*stored, converted);
  if (keep_alive) *keep_alive = (data.data() == converted.data()) ? nullptr : file.keep_alive();
  return data;
}

std::uint64_t Checkpoint::total_bytes() const {
  std::uint64_t n = 0;
  for (const auto& f : files_) n += f->file_size();
  return n;
}

std::string Checkpoint::dtype_summary() const {
  std::set<std::string> kinds;
  for (const auto& f : files_)
    for (const auto& [name, info] : f->tensors()) kinds.insert(dtype_name(info.dtype));
  std::string s;
  for (const auto& k : kinds) s += (s.empty() ? "" : " + ") + k;
  return s;
}

std::map<std::string, LoadedTensor> Checkpoint::read_all() const {
  std::map<std::string, LoadedTensor> all;
  for (const auto& file : files_)
    for (const auto& [name, info] : file->tensors()) {
      std::vector<float> converted;
      const auto values = file->read_f32(name, converted);
      all[name] = {info.shape, std::vector<float>(values.begin(), values.end())};
    }
  return all;
}

std::int64_t Checkpoint::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& f : files_)
    for (const auto& [name, info] : f->tensors())
      if (is_floating(info.dtype)) n += element_count(info.shape);  // integer tensors are buffers, not parameters
  return n;
}

}  // namespace bertscope
