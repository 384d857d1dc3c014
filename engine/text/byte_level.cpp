#include "text/byte_level.h"

#include <utf8proc.h>

#include "text/unicode.h"

namespace bertscope::byte_level {

namespace {

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

bool is_letter(char32_t c) {  // \p{L}
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: return true;
    default: return false;
  }
}

bool is_number(char32_t c) {  // \p{N}
  switch (category(c)) {
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: return true;
    default: return false;
  }
}

}  // namespace

// Unicode's White_Space property: what \s means to the Rust regex crate and Oniguruma (Hugging Face's two engines),
// and Rust's char::is_whitespace. (JavaScript's \s differs: it has U+FEFF and lacks U+0085.)
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// \w of the Rust regex crate (Alphabetic, marks, decimal digits, connector punctuation, joiners), for single_word
// added tokens. Alphabetic is approximated by letters and letter numbers (it also has a few symbols, such as Ⓐ).
bool is_word_char(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC: return true;
    default: return is_letter(c) || c == 0x200C || c == 0x200D;
  }
}

namespace {
enum class Kind { Space, Letter, Number, Other };
Kind kind(char32_t c) {
  if (is_white_space(c)) return Kind::Space;
  if (is_letter(c)) return Kind::Letter;
  if (is_number(c)) return Kind::Number;
  return Kind::Other;
}
}  // namespace

// The end of GPT-2's match starting at s[i] (never empty; the alternatives cover every character, so matches tile
// the text): 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, tried in that order.
size_t gpt2_match_end(std::u32string_view s, size_t i) {
  const size_t n = s.size();
  if (s[i] == U'\'' && i + 1 < n) {
    const char32_t a = s[i + 1];
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return i + 2;
    if (i + 2 < n) {
      const char32_t b = s[i + 2];
      if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return i + 3;
    }
  }
  // " ?X+" for X in letters, numbers, others: the optional space is taken only when an X follows it.
  for (Kind k : {Kind::Letter, Kind::Number, Kind::Other}) {
    size_t j = i;
    if (s[j] == U' ' && j + 1 < n && kind(s[j + 1]) == k) ++j;
    if (kind(s[j]) != k) continue;
    while (j < n && kind(s[j]) == k) ++j;
    return j;
  }
  // Whitespace: \s+(?!\S) takes the run but leaves its last character to the word that follows (" world"); a run of
  // one before a non-space, or a run that ends the text, is taken whole (by \s+ or by the lookahead at the end).
  size_t j = i;
  while (j < n && is_white_space(s[j])) ++j;
  if (j < n && j - i >= 2) return j - 1;
  return j;
}

ByteMap::ByteMap() {
  to_byte.fill(-1);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    to_char[b] = printable ? static_cast<char32_t>(b) : next++;
    to_byte[to_char[b]] = static_cast<std::int16_t>(b);
    unicode::append_utf8(to_utf8[b], to_char[b]);
  }
}

const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}

// UTF-8 decoding that replaces each maximal invalid subsequence by one U+FFFD, as Rust's String::from_utf8_lossy
// and Python's bytes.decode(errors="replace") do (a truncated 4-byte sequence is one U+FFFD, not three).
std::string lossy_utf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(in[k]); };
  size_t i = 0;
  while (i < in.size()) {
    const unsigned char b = byte(i);
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;  // no surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k <= need && i + k < in.size(); ++k) {
      const unsigned char c = byte(i + k);
      if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) break;
    }
    if (k == need + 1) {
      out.append(in.substr(i, k));
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += k;
  }
  return out;
}

// transformers' clean_up_tokenization: the spaces decode() leaves before punctuation and English contractions.
void clean_up_tokenization(std::string& text) {
  static const std::pair<std::string_view, std::string_view> fixes[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},
      {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : fixes) {  // each a left-to-right, non-overlapping replace, as Python's str.replace
    std::string out;
    size_t pos = 0;
    for (size_t hit = text.find(from); hit != std::string::npos; hit = text.find(from, pos)) {
      out.append(text, pos, hit - pos);
      out += to;
      pos = hit + from.size();
    }
    out.append(text, pos);
    text = std::move(out);
  }
}

std::string quote_token(std::string_view s) {  // for messages: at most 40 bytes, valid UTF-8
  std::string t = lossy_utf8(s.substr(0, 40));
  return "'" + t + (s.size() > 40 ? "...'" : "'");
}

}  // namespace bertscope::byte_level
