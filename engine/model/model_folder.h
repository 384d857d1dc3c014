#pragma once
// Writing a Hugging Face model folder safely: into a temporary folder that replaces the target only when complete,
// never over a folder of the user's that is not a model, and with the tokenizer files of the source model.
#include <filesystem>

namespace bertscope {

// Throws Error when `out` exists, is not empty and holds no config.json. Returns the temporary folder to fill.
std::filesystem::path begin_model_folder(const std::filesystem::path& out);
// Puts the finished temporary folder in place of `out` (the old one is removed only after the swap).
void finish_model_folder(const std::filesystem::path& tmp, const std::filesystem::path& out);
// Copies vocab.txt, tokenizer.json, tokenizer_config.json and special_tokens_map.json where present; throws when
// neither vocabulary file exists.
void copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace bertscope
