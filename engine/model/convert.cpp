#include "model/convert.h"

#include <nlohmann/json.hpp>
#include <fstream>

#include "core/error.h"
#include "model/checkpoint.h"
#include "model/model_folder.h"

namespace fs = std::filesystem;

namespace bertscope {

void convert_model(const fs::path& in, const fs::path& out, StDType dtype) {
  const auto all = Checkpoint(in).read_all();
  std::vector<StWriteTensor> tensors;
  for (const auto& [name, tensor] : all) tensors.push_back({name, tensor.shape, tensor.values});
  const fs::path tmp = begin_model_folder(out);
  write_safetensors(tmp / "model.safetensors", tensors, dtype, {{"format", "pt"}});
  nlohmann::json config = nlohmann::json::parse(std::ifstream(in / "config.json"));
  std::ofstream(tmp / "config.json") << config.dump(2) << "\n";
  copy_tokenizer_files(in, tmp);
  finish_model_folder(tmp, out);
}

}  // namespace bertscope
