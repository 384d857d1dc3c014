#include "model/pretrained.h"

#include "core/error.h"
#include "text/byte_level_bpe.h"

namespace fs = std::filesystem;

namespace bertscope {

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& folder, const ModelConfig& config) {
  switch (config.architecture().tokenizer) {
    case TokenizerFamily::WordPiece:
      return std::make_unique<WordPieceTokenizer>(WordPieceTokenizer::load(folder, config.max_tokens()));
    case TokenizerFamily::ByteLevelBpe:
      return std::make_unique<ByteLevelBpe>(ByteLevelBpe::load(folder, config.max_tokens()));
  }
  throw Error("internal: unknown tokenizer family");
}

Pretrained open_pretrained(const fs::path& folder) {
  if (!fs::is_directory(folder)) throw Error(folder.string() + ": not a folder (give a Hugging Face model folder)");
  Pretrained p;
  p.folder = folder;
  p.config = ModelConfig::load(folder / "config.json");
  p.tokenizer = load_tokenizer(folder, p.config);
  if (static_cast<int>(p.tokenizer->vocab_size()) > p.config.vocab_size)
    throw Error(folder.string() + ": the tokenizer has " + std::to_string(p.tokenizer->vocab_size()) +
                " tokens but config.json's vocab_size is " + std::to_string(p.config.vocab_size));
  return p;
}

}  // namespace bertscope
