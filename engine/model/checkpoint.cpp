#include "model/checkpoint.h"

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/architecture.h"
#include "model/torch_file.h"

namespace fs = std::filesystem;

namespace bertscope {

Checkpoint::Checkpoint(const fs::path& folder) : folder_(folder) {
  // The shards an index's weight_map lists: plain file names in this folder, each present.
  auto shards_of = [&](const fs::path& index) {
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
    std::vector<fs::path> paths;
    for (const auto& s : shards) {
      if (!fs::exists(folder / s))
        throw Error(index.string() + ": lists shard '" + s + "', which is missing from the folder");
      paths.push_back(folder / s);
    }
    return paths;
  };
  // safetensors first (no pickle at all, and memory-mapped); pytorch_model.bin only where it is all there is.
  std::vector<fs::path> paths;
  bool torch = false;
  if (fs::exists(folder / "model.safetensors")) {
    paths.push_back(folder / "model.safetensors");
  } else if (fs::exists(folder / "model.safetensors.index.json")) {
    paths = shards_of(folder / "model.safetensors.index.json");
  } else if (fs::exists(folder / "pytorch_model.bin")) {
    paths.push_back(folder / "pytorch_model.bin");
    torch = true;
  } else if (fs::exists(folder / "pytorch_model.bin.index.json")) {
    paths = shards_of(folder / "pytorch_model.bin.index.json");
    torch = true;
  } else {
    throw Error(folder.string() + ": no model.safetensors or pytorch_model.bin (nor a sharded "
                "model.safetensors.index.json or pytorch_model.bin.index.json) in this folder");
  }
  for (const auto& p : paths) {
    if (torch) files_.push_back(std::make_unique<TorchFile>(p));
    else files_.push_back(std::make_unique<SafetensorsFile>(p));
    for (const auto& [name, info] : files_.back()->tensors()) {
      if (owner_.count(name)) throw Error(p.string() + ": tensor '" + name + "' also appears in another shard");
      owner_[name] = files_.size() - 1;
    }
  }
}

std::optional<std::string> Checkpoint::resolve(const std::string& canonical) const {
  std::vector<std::string> candidates = {canonical};
  for (const auto& type : supported_model_types()) {  // the bare encoder's checkpoints lack the base prefix
    const std::string& base = architecture_for(type, "").names.base;
    if (canonical.rfind(base, 0) == 0) candidates.push_back(canonical.substr(base.size()));
  }
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
