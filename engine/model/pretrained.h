#pragma once
// open_pretrained: the one way a model folder becomes what the engine runs and trains. It reads config.json once,
// picks the family's Architecture from model_type, and loads the family's tokenizer (WordPiece or byte-level BPE),
// checked against the config. Weights are read later, by whoever needs them, on the backend they choose
// (Checkpoint over the same folder). Session, the trainer, pre-training and shrink all start here.
#include <filesystem>
#include <memory>

#include "model/config.h"
#include "text/tokenizer.h"

namespace bertscope {

struct Pretrained {
  std::filesystem::path folder;
  ModelConfig config;
  std::shared_ptr<const Tokenizer> tokenizer;
};

// Throws Error naming the file at fault (no config.json, a model_type bertscope does not run, tokenizer files
// missing or malformed, a vocabulary larger than the model's embedding table).
Pretrained open_pretrained(const std::filesystem::path& folder);

// The family's tokenizer from a model folder, taking at most config.max_tokens() tokens.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& folder, const ModelConfig& config);

}  // namespace bertscope
