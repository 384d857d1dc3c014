#include "model/model_folder.h"

#include "core/error.h"

namespace fs = std::filesystem;

namespace bertscope {

void copy_tokenizer_files(const fs::path& from, const fs::path& to) {
  for (const char* file : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::exists(from / file)) fs::copy_file(from / file, to / file, fs::copy_options::overwrite_existing);
  if (!fs::exists(to / "vocab.txt") && !fs::exists(to / "tokenizer.json"))
    throw Error(from.string() + ": no vocab.txt or tokenizer.json to save with the model");
}

}  // namespace bertscope
