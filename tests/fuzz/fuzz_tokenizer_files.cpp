// libFuzzer harness: a tokenizer folder. The input is split at the first NUL byte into tokenizer.json and vocab.txt
// (no NUL: tokenizer.json alone), loaded as Tokenizer::load does, then used on a fixed sentence.
#include <cstring>
#include <filesystem>

#include "fuzz_support.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data, 0, size));
  const size_t json_size = nul ? static_cast<size_t>(nul - data) : size;
  const std::filesystem::path folder = fuzz::scratch_folder();
  std::filesystem::remove(folder / "vocab.txt");
  fuzz::scratch_file("tokenizer.json", data, json_size);
  if (nul) fuzz::scratch_file("vocab.txt", nul + 1, size - json_size - 1);
  fuzz::expect_clean_errors([&] {
    const auto tokenizer = bertscope::WordPieceTokenizer::load(folder, 64);
    tokenizer.encode("Hello, [MASK] world! Naïve café, 北京.", std::string_view("second"));
  });
  return 0;
}
