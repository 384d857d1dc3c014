#pragma once
// Makes a trained BERT folder smaller so it fits a size budget, keeping what it learned where it matters most:
// - the vocabulary is cut to the tokens used most often in a text (special tokens, single characters and their
//   "##" continuations are always kept, so every word still tokenizes, into smaller pieces where its token went);
// - each layer's feed-forward block keeps the neurons with the largest |w_in| * |w_out| (the rest are dropped).
// The result is an ordinary Hugging Face folder (config.json with the new sizes, vocab.txt, model.safetensors);
// a short training run from it (pretrain --init-from) recovers most of what was cut. Written atomically.
#include <cstdint>
#include <filesystem>

#include "model/safetensors.h"

namespace bertscope {

struct ShrinkOptions {
  int vocab_size = 0;                 // tokens to keep; 0 keeps the vocabulary
  std::filesystem::path corpus;       // text (one paragraph a line) whose token counts choose the tokens
  int intermediate = 0;               // feed-forward neurons to keep per layer; 0 keeps them all
  StDType dtype = StDType::F32;
};

struct ShrinkReport {
  int vocab_before = 0, vocab_after = 0, intermediate_before = 0, intermediate_after = 0;
  std::int64_t parameters_before = 0, parameters_after = 0;
  double corpus_tokens_retokenized = 0;  // share of the corpus's tokens whose token was dropped
};

ShrinkReport shrink_model(const std::filesystem::path& in, const std::filesystem::path& out, const ShrinkOptions& options);

}  // namespace bertscope
