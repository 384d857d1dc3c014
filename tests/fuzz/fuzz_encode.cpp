// libFuzzer harness: the WordPiece tokenizer on arbitrary bytes (invalid UTF-8, control characters, huge words),
// alone and as a pair, with bert-base-uncased's vocabulary; then decode of what it produced.
#include <string_view>

#include "fuzz_support.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  static const bertscope::WordPieceTokenizer tokenizer = fuzz::bert_tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::expect_clean_errors([&] {
    const auto encoding = tokenizer.encode(text);
    tokenizer.decode(encoding.ids(), true);
    const size_t half = size / 2;
    tokenizer.encode(text.substr(0, half), text.substr(half), 32);
  });
  return 0;
}
