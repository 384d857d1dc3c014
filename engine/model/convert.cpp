#include "model/convert.h"

#include <nlohmann/json.hpp>
#include <fstream>

#include "core/error.h"
#include "model/checkpoint.h"

namespace fs = std::filesystem;

namespace bertscope {

void convert_model(const fs::path& in, const fs::path& out, StDType dtype) {
  if (fs::exists(out) && !fs::is_empty(out) && !fs::exists(out / "config.json"))
    throw Error(out.string() + " exists and is not a model folder; choose a new or empty folder");
  const Checkpoint ckpt(in);
  std::vector<std::vector<float>> data;
  std::vector<StWriteTensor> tensors;
  for (const auto& file : ckpt.files()) data.reserve(data.size() + file->tensors().size());
  for (const auto& file : ckpt.files())
    for (const auto& [name, info] : file->tensors()) {
      std::vector<float> converted;
      auto values = file->read_f32(name, converted);
      data.emplace_back(values.begin(), values.end());
      tensors.push_back({name, info.shape, data.back()});
    }
  const fs::path tmp = out.string() + ".partial";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_safetensors(tmp / "model.safetensors", tensors, dtype, {{"format", "pt"}});
  nlohmann::json config = nlohmann::json::parse(std::ifstream(in / "config.json"));
  std::ofstream(tmp / "config.json") << config.dump(2) << "\n";
  for (const char* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::exists(in / f)) fs::copy_file(in / f, tmp / f);
  const fs::path old = out.string() + ".old";
  fs::remove_all(old);
  if (fs::exists(out)) fs::rename(out, old);
  fs::rename(tmp, out);
  fs::remove_all(old);
}

}  // namespace bertscope
