#pragma once
// Rewrites a Hugging Face BERT folder with its weights in another dtype (F32, F16, BF16): every tensor of
// model.safetensors (or of its shards) under the same name, config.json and the tokenizer files alongside.
// Anything else in the folder (a pre-training checkpoint's optimizer state) is left out. Written atomically.
#include <filesystem>

#include "model/safetensors.h"

namespace bertscope {

void convert_model(const std::filesystem::path& in, const std::filesystem::path& out, StDType dtype);

}  // namespace bertscope
