#include "model/model_folder.h"

#include "core/error.h"

namespace fs = std::filesystem;

namespace bertscope {

void copy_tokenizer_files(const fs::path& from, const fs::path& to) {
  // WordPiece (vocab.txt), byte-level BPE (vocab.json + merges.txt), or either as tokenizer.json; and their settings.
  for (const char* file : {"vocab.txt", "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json",
                           "special_tokens_map.json", "added_tokens.json"})
    if (fs::exists(from / file)) fs::copy_file(from / file, to / file, fs::copy_options::overwrite_existing);
  if (!fs::exists(to / "vocab.txt") && !fs::exists(to / "tokenizer.json") && !fs::exists(to / "vocab.json"))
    throw Error(from.string() + ": no tokenizer files (vocab.txt, vocab.json or tokenizer.json) to save with the model");
}

}  // namespace bertscope
