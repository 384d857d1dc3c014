#pragma once
// Byte-level text helpers shared by the byte-level BPE tokenizer's parts: GPT-2's pre-tokenization pattern, its
// byte <-> character map, lossy UTF-8 decoding and transformers' decode clean-up.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bertscope::byte_level {

// Unicode's White_Space property (\s to Hugging Face's regex engines).
bool is_white_space(char32_t c);
// \w of the Rust regex crate, for single_word added tokens.
bool is_word_char(char32_t c);
// The end of GPT-2's pre-tokenizer match starting at s[i] (never empty: the matches tile the text).
size_t gpt2_match_end(std::u32string_view s, size_t i);

// GPT-2's byte <-> character map: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls, space,
// 0x7F-0xA0, 0xAD) take code points 256, 257, ... in byte order. The space (0x20) becomes U+0120 "Ġ".
struct ByteMap {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;     // to_char as UTF-8
  std::array<std::int16_t, 512> to_byte{};  // by code point (all are below 512), -1 for none

  ByteMap();
  int byte_of(char32_t c) const { return c < 512 ? to_byte[c] : -1; }
};
const ByteMap& byte_map();

// UTF-8 decoding that replaces each maximal invalid subsequence by one U+FFFD, as Rust's String::from_utf8_lossy
// and Python's bytes.decode(errors="replace") do.
std::string lossy_utf8(std::string_view in);
// transformers' clean_up_tokenization: the spaces decode() leaves before punctuation and English contractions.
void clean_up_tokenization(std::string& text);
// A token for an error message: quoted, at most 40 bytes, valid UTF-8.
std::string quote_token(std::string_view s);

}  // namespace bertscope::byte_level
