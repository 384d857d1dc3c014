#include "model/convert.h"

#include <nlohmann/json.hpp>
#include <fstream>

#include "core/error.h"
#include "core/safe_files.h"
#include "model/checkpoint.h"
#include "model/model_folder.h"
#include "model/pretrained.h"

namespace fs = std::filesystem;

namespace bertscope {

void convert_model(const fs::path& in, const fs::path& out, StDType dtype) {
  const Pretrained model = open_pretrained(in);  // a model bertscope runs: its config and tokenizer check out
  const auto all = Checkpoint(in).read_all();
  std::vector<StWriteTensor> tensors;
  for (const auto& [name, tensor] : all) tensors.push_back({name, tensor.shape, tensor.values});
  StagedFolder folder(out);  // refuses a folder that exists and is not empty
  write_safetensors(folder.path() / "model.safetensors", tensors, dtype, {{"format", "pt"}});
  write_file_atomically(folder.path() / "config.json", config_json_text(model.config.raw));
  copy_tokenizer_files(in, folder.path());
  folder.commit();
}

}  // namespace bertscope
