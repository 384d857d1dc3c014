#pragma once
// What a saved Hugging Face model folder carries besides its weights. The folder itself is written through
// StagedFolder (core/safe_files.h), the one way bertscope writes a folder.
#include <filesystem>

namespace bertscope {

// Copies vocab.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json where present; throws when
// neither vocabulary file exists.
void copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace bertscope
