#pragma once
// The character classes of Hugging Face's BertTokenizer (tokenization_bert.py), on Unicode code points,
// using utf8proc for categories, lower-casing and NFD decomposition.
#include <string>
#include <string_view>
#include <vector>

namespace bertscope::unicode {

bool is_whitespace(char32_t c);    // space, \t, \n, \r, or category Zs
bool is_control(char32_t c);       // category C*, except \t \n \r (those count as whitespace)
bool is_punctuation(char32_t c);   // ASCII symbol ranges, or category P*
bool is_cjk_ideograph(char32_t c); // the CJK Unified Ideograph blocks BERT puts spaces around
bool is_nonspacing_mark(char32_t c);  // category Mn (accents removed by strip_accents)
char32_t to_lower(char32_t c);
bool is_word_char(char32_t c);     // letter or digit of any script, or '_' (what Python's regex \w matches)
bool is_valid_utf8(std::string_view s);  // well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF)
// Unicode's Final_Sigma context for text[i] (a capital sigma): after a cased letter and not before one. Python's
// str.lower() and JavaScript's toLowerCase() then give final sigma (U+03C2) instead of U+03C3.
bool is_final_sigma(std::u32string_view text, size_t i);
std::vector<char32_t> nfd(char32_t c);  // canonical decomposition of one code point

// Decodes UTF-8; each invalid byte becomes U+FFFD (which the tokenizer then drops, as it drops bad characters).
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t c);

}  // namespace bertscope::unicode
