#include "model/model_folder.h"

#include "core/error.h"

namespace fs = std::filesystem;

namespace bertscope {

fs::path begin_model_folder(const fs::path& out) {
  if (fs::exists(out) && !fs::is_empty(out) && !fs::exists(out / "config.json"))
    throw Error(out.string() + " exists and is not a model folder; choose a new or empty folder");
  const fs::path tmp = out.string() + ".partial";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  return tmp;
}

void finish_model_folder(const fs::path& tmp, const fs::path& out) {
  const fs::path old = out.string() + ".old";
  fs::remove_all(old);
  if (fs::exists(out)) fs::rename(out, old);
  fs::rename(tmp, out);
  fs::remove_all(old);
}

void copy_tokenizer_files(const fs::path& from, const fs::path& to) {
  for (const char* file : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::exists(from / file)) fs::copy_file(from / file, to / file, fs::copy_options::overwrite_existing);
  if (!fs::exists(to / "vocab.txt") && !fs::exists(to / "tokenizer.json"))
    throw Error(from.string() + ": no vocab.txt or tokenizer.json to save with the model");
}

}  // namespace bertscope
