#pragma once
// What the fuzz harnesses share: a scratch folder of this process, and the rule that bad input may only raise
// bertscope's Error (or a library's exception derived from std::exception); a crash or a sanitizer report is a bug.
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "core/error.h"
#include "text/tokenizer.h"

namespace fuzz {

inline std::filesystem::path scratch_folder() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("bertscope-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::string scratch_file(const char* name, const std::uint8_t* data, size_t size) {
  const auto path = scratch_folder() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path.string();
}

template <class F>
void expect_clean_errors(F body) {
  try {
    body();
  } catch (const std::exception&) {
    // a message for the user: fine
  }
}

inline bertscope::WordPieceTokenizer bert_tokenizer() {
  std::vector<std::string> vocab;
  std::ifstream in(BERTSCOPE_FUZZ_VOCAB);
  for (std::string line; std::getline(in, line);) vocab.push_back(line);
  return bertscope::WordPieceTokenizer(std::move(vocab), {});
}

}  // namespace fuzz
