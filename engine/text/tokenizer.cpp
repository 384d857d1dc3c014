#include "text/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "text/unicode.h"
#include "text/vocab_file.h"

namespace fs = std::filesystem;

namespace bertscope {

std::vector<std::int32_t> Encoding::ids() const {
  std::vector<std::int32_t> v;
  for (const auto& t : tokens) v.push_back(t.id);
  return v;
}

std::vector<std::int32_t> Encoding::type_ids() const {
  std::vector<std::int32_t> v;
  for (const auto& t : tokens) v.push_back(t.type_id);
  return v;
}

std::string Encoding::truncated_count() const {
  return (truncated_at_least ? "at least " : "") + std::to_string(truncated_tokens);
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, TokenizerOptions options)
    : vocab_(std::move(vocab)), options_(options) {
  for (size_t i = 0; i < vocab_.size(); ++i) {
    ids_.emplace(vocab_[i], static_cast<std::int32_t>(i));  // first wins
    const size_t chars = unicode::decode_utf8(vocab_[i]).size();
    longest_piece_ = std::max(longest_piece_, vocab_[i].rfind("##", 0) == 0 ? chars - 2 : chars);
  }
  auto id = [&](const char* t) { auto it = ids_.find(t); return it == ids_.end() ? -1 : it->second; };
  cls_id_ = id("[CLS]");
  sep_id_ = id("[SEP]");
  mask_id_ = id("[MASK]");
  pad_id_ = id("[PAD]");
  unk_id_ = id("[UNK]");
  if (cls_id_ < 0 || sep_id_ < 0 || unk_id_ < 0)
    throw Error("vocabulary lacks [CLS], [SEP] or [UNK]; not a BERT WordPiece vocabulary");
  if (pad_id_ < 0) pad_id_ = 0;
  for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
    if (id(t) >= 0) add_token(t, true);
}

void WordPieceTokenizer::add_token(const std::string& token, bool special, bool normalized) {
  if (token.empty()) return;
  auto [it, is_new] = ids_.emplace(token, static_cast<std::int32_t>(vocab_.size()));
  if (is_new) vocab_.push_back(token);
  const std::int32_t id = it->second;
  for (AddedPiece& a : added_)
    if (a.id == id) {  // added twice (a file names it again): special wins, as in transformers
      if (special && !a.special) a = {unicode::decode_utf8(token), id, true, false};
      if (special) special_ids_.insert(id);
      return;
    }
  std::u32string text = unicode::decode_utf8(token);
  const bool fold_case = !special && normalized && options_.lowercase;
  if (fold_case)
    for (char32_t& c : text) c = unicode::to_lower(c);
  added_.push_back({std::move(text), id, special, fold_case});
  if (special) special_ids_.insert(id);
  std::stable_sort(added_.begin(), added_.end(), [](auto& a, auto& b) { return a.text.size() > b.text.size(); });
}

// transformers' from_pretrained: added_tokens.json's entries in id order, each either already in the vocabulary at
// that id (allowed only with a tokenizer.json) or the next id; special when special_tokens_map.json names it.
void WordPieceTokenizer::add_tokens_from_files(const fs::path& folder, bool has_tokenizer_json) {
  std::set<std::string> special_names;
  const fs::path map_file = folder / "special_tokens_map.json";
  if (fs::exists(map_file)) {
    const nlohmann::json map = read_json_file(map_file, 1u << 20);
    if (!map.is_object()) throw Error(map_file.string() + ": should be a JSON object");
    auto name_of = [](const nlohmann::json& v) -> std::string {  // "[X]" or {"content": "[X]", ...}
      if (v.is_string()) return v.get<std::string>();
      const auto& c = json_field(v, "content");
      return c.is_string() ? c.get<std::string>() : std::string();
    };
    for (const auto& [key, value] : map.items()) {
      if (value.is_array()) {
        for (const auto& v : value) special_names.insert(name_of(v));
      } else {
        special_names.insert(name_of(value));
      }
    }
    // Named special tokens (e.g. additional_special_tokens) that the vocabulary already has are never split.
    for (const std::string& name : special_names)
      if (find(name)) add_token(name, true);
  }
  const fs::path added_file = folder / "added_tokens.json";
  if (!fs::exists(added_file)) return;
  const nlohmann::json added = read_json_file(added_file, 16u << 20);
  if (!added.is_object()) throw Error(added_file.string() + ": should be a {\"token\": id} object");
  std::vector<std::pair<long long, std::string>> by_id;
  for (const auto& [token, id] : added.items()) {
    if (!id.is_number_integer())
      throw Error(added_file.string() + ": the id of \"" + token + "\" is not an integer");
    check_vocab_entry(token, added_file.string(), "added token");
    by_id.emplace_back(id.get<long long>(), token);
  }
  if (by_id.size() > kMaxVocabEntries)
    throw Error(added_file.string() + ": more than " + std::to_string(kMaxVocabEntries) + " added tokens");
  std::sort(by_id.begin(), by_id.end());
  for (const auto& [id, token] : by_id) {
    const auto existing = find(token);
    const long long next = static_cast<long long>(vocab_.size());
    if (id != next && !(has_tokenizer_json && existing && *existing == id))
      throw Error(added_file.string() + ": added token \"" + token + "\" has id " + std::to_string(id) + ", but " +
                  (existing ? "the vocabulary has it as " + std::to_string(*existing)
                            : "the next free id is " + std::to_string(next)) +
                  " (Hugging Face refuses this file too)");
    add_token(token, special_names.count(token) > 0);
  }
}

constexpr auto member = json_field;  // obj[key], or null

WordPieceTokenizer WordPieceTokenizer::load(const fs::path& folder, int max_tokens) {
  TokenizerOptions options;
  std::vector<std::string> vocab;
  nlohmann::json tokenizer_json;
  const fs::path vocab_txt = folder / "vocab.txt", tok_json = folder / "tokenizer.json";
  if (fs::exists(tok_json)) tokenizer_json = read_json_file(tok_json);
  if (fs::exists(vocab_txt)) {
    vocab = read_vocab_txt(vocab_txt);
  } else if (tokenizer_json.is_object()) {
    const auto& model = member(tokenizer_json, "model");
    if (member(model, "type") != "WordPiece" || !member(model, "vocab").is_object())
      throw Error(tok_json.string() + ": not a WordPiece tokenizer (BERT needs model.type \"WordPiece\" and model.vocab)");
    if (member(model, "vocab").size() > kMaxVocabEntries)
      throw Error(tok_json.string() + ": model.vocab has " + std::to_string(member(model, "vocab").size()) +
                  " entries, more than the " + std::to_string(kMaxVocabEntries) + " a vocabulary may have");
    vocab.resize(member(model, "vocab").size());
    for (const auto& [token, id] : member(model, "vocab").items()) {
      check_vocab_entry(token, tok_json.string(), "model.vocab");
      if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<size_t>() >= vocab.size())
        throw Error(tok_json.string() + ": vocabulary id of '" + token + "' is out of range");
      vocab[id.get<size_t>()] = token;
    }
    const auto& max_chars = member(model, "max_input_chars_per_word");
    if (max_chars.is_number_integer() && max_chars.get<long long>() > 0 && max_chars.get<long long>() <= 10000)
      options.max_input_chars_per_word = max_chars.get<int>();
  } else {
    throw Error(folder.string() + ": no vocab.txt or tokenizer.json");
  }
  if (const auto& n = member(tokenizer_json, "normalizer"); n.is_object()) {
    if (member(n, "lowercase").is_boolean()) options.lowercase = member(n, "lowercase").get<bool>();
    const auto& strip = member(n, "strip_accents");
    options.strip_accents = strip.is_boolean() ? strip.get<bool>() : options.lowercase;
  }
  const fs::path config = folder / "tokenizer_config.json";
  if (fs::exists(config)) {
    const nlohmann::json c = read_json_file(config);
    if (member(c, "do_lower_case").is_boolean()) options.lowercase = member(c, "do_lower_case").get<bool>();
    const auto& strip = member(c, "strip_accents");
    options.strip_accents = strip.is_boolean() ? strip.get<bool>() : options.lowercase;
    const auto& max_length = member(c, "model_max_length");  // Hugging Face writes 1e30 for "no limit"
    if (max_length.is_number() && max_length.get<double>() > 0 && max_length.get<double>() < max_tokens)
      max_tokens = static_cast<int>(max_length.get<double>());
  }
  options.model_max_length = max_tokens;
  WordPieceTokenizer tokenizer(std::move(vocab), options);
  if (const auto& added = member(tokenizer_json, "added_tokens"); added.is_array()) {
    for (const auto& t : added) {
      const auto& content = member(t, "content");
      const auto& id = member(t, "id");
      if (!content.is_string() || !id.is_number_integer()) continue;
      const std::string token = content.get<std::string>();
      // In the vocabulary at its id, or the next id: tokenizer.json lists tokens added past model.vocab here.
      const auto existing = tokenizer.find(token);
      const bool fits = existing ? *existing == id.get<long long>()
                                 : id.get<long long>() == static_cast<long long>(tokenizer.vocab_size());
      if (!fits)
        throw Error(tok_json.string() + ": added token \"" + token + "\" has id " + std::to_string(id.get<long long>()) +
                    ", which does not follow the vocabulary");
      const auto& special = member(t, "special");
      const auto& normalized = member(t, "normalized");
      tokenizer.add_token(token, !special.is_boolean() || special.get<bool>(),
                          !normalized.is_boolean() || normalized.get<bool>());
    }
  }
  tokenizer.add_tokens_from_files(folder, tokenizer_json.is_object());
  return tokenizer;
}

std::optional<std::int32_t> WordPieceTokenizer::find(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

bool WordPieceTokenizer::is_special(std::int32_t id) const {
  return special_ids_.count(id) > 0;
}

// BasicTokenizer on one stretch of text without special tokens: clean, CJK spacing, lower-case / strip accents,
// split on whitespace and punctuation. `offset` is the code-point index of text[0] in the original.
bool WordPieceTokenizer::split_words(std::u32string_view text, std::int32_t offset, std::vector<std::vector<Char>>& words,
                                     size_t max_words) const {
  std::vector<Char> current;
  auto finish_word = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  size_t i = 0;
  for (; i < text.size() && words.size() < max_words; ++i) {
    const char32_t c = text[i];
    const std::int32_t origin = offset + static_cast<std::int32_t>(i);
    if (c == 0 || c == 0xFFFD || unicode::is_control(c)) continue;  // clean_text drops these
    if (unicode::is_whitespace(c)) {
      finish_word();
      continue;
    }
    std::vector<char32_t> normalised = {options_.lowercase ? unicode::to_lower(c) : c};
    if (options_.lowercase && c == U'\u03A3' && unicode::is_final_sigma(text, i)) normalised[0] = U'\u03C2';
    if (options_.strip_accents) {
      std::vector<char32_t> kept;
      for (char32_t d : unicode::nfd(normalised[0]))
        if (!unicode::is_nonspacing_mark(d)) kept.push_back(d);
      normalised = kept;
    }
    if (unicode::is_cjk_ideograph(c)) {  // each ideograph is a word of its own
      finish_word();
      for (char32_t n : normalised) current.push_back({n, origin});
      finish_word();
      continue;
    }
    for (char32_t n : normalised) {
      if (unicode::is_punctuation(n)) {  // punctuation is a word of its own
        finish_word();
        current.push_back({n, origin});
        finish_word();
      } else {
        current.push_back({n, origin});
      }
    }
  }
  if (words.size() >= max_words) return i < text.size() || !current.empty();  // enough words; `current` is unfinished
  finish_word();
  return false;
}

std::vector<std::string> WordPieceTokenizer::basic_words(std::string_view text_utf8) const {
  const std::u32string text = unicode::decode_utf8(text_utf8);
  std::vector<std::vector<Char>> words;
  split_words(text, 0, words);
  std::vector<std::string> out;
  out.reserve(words.size());
  for (const auto& w : words) {
    std::u32string s;
    for (const Char& c : w) s.push_back(c.c);
    out.push_back(unicode::encode_utf8(s));
  }
  return out;
}

// Greedy longest-match-first WordPiece over one word.
void WordPieceTokenizer::wordpiece(const std::vector<Char>& word, int word_index, int sequence, std::vector<Token>& out) const {
  auto make = [&](std::int32_t id, size_t from, size_t to, bool unknown) {
    Token t;
    t.id = id;
    t.text = vocab_[id];
    t.start = word[from].origin;
    t.end = word[to - 1].origin + 1;
    t.word = word_index;
    t.sequence = sequence;
    t.type_id = sequence;
    t.unknown = unknown;
    return t;
  };
  if (static_cast<int>(word.size()) > options_.max_input_chars_per_word) {
    out.push_back(make(unk_id_, 0, word.size(), true));
    return;
  }
  std::vector<Token> pieces;
  size_t start = 0;
  while (start < word.size()) {
    std::optional<std::int32_t> match;
    // Longest match first, but never longer than the longest vocabulary entry: same result, and linear (not cubic)
    // in the word's length.
    size_t end = std::min(word.size(), start + longest_piece_);
    for (; end > start; --end) {
      std::string candidate = start > 0 ? "##" : "";
      for (size_t i = start; i < end; ++i) unicode::append_utf8(candidate, word[i].c);
      auto it = ids_.find(candidate);
      if (it != ids_.end()) {
        match = it->second;
        break;
      }
    }
    if (!match) {  // some piece is not in the vocabulary: the whole word is [UNK]
      out.push_back(make(unk_id_, 0, word.size(), true));
      return;
    }
    pieces.push_back(make(*match, start, end, false));
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<Token> WordPieceTokenizer::tokenize(std::string_view text_utf8, int sequence) const {
  return tokenize_prefix(text_utf8, sequence, SIZE_MAX, nullptr);
}

std::vector<Token> WordPieceTokenizer::tokenize_prefix(std::string_view text_utf8, int sequence, size_t limit, bool* more) const {
  const std::u32string text = unicode::decode_utf8(text_utf8);
  std::vector<Token> out;
  int word_index = 0;
  size_t segment_start = 0;
  bool unread = false;  // stopped with text left over
  auto flush_text = [&](size_t end) {
    if (out.size() >= limit) {
      unread |= end > segment_start;
      return;
    }
    // Every word is at least one token: the words past the next `limit - out.size()` are not needed.
    std::vector<std::vector<Char>> words;
    unread |= split_words(std::u32string_view(text).substr(segment_start, end - segment_start),
                          static_cast<std::int32_t>(segment_start), words, limit - out.size());
    for (const auto& w : words) wordpiece(w, word_index++, sequence, out);
  };
  auto matches_at = [&text](size_t i, const AddedPiece& a) {  // does `a` start at text[i]?
    if (text.size() - i < a.text.size()) return false;
    if (!a.fold_case) return text.compare(i, a.text.size(), a.text) == 0;
    for (size_t k = 0; k < a.text.size(); ++k)
      if (unicode::to_lower(text[i + k]) != a.text[k]) return false;
    return true;
  };
  for (size_t i = 0; i < text.size() && out.size() < limit;) {
    // A long stretch is split into words a few thousand characters at a time, at a space (a word boundary no rule
    // looks across, final sigma included), so that reading stops soon after the limit.
    if (i - segment_start >= 4096 && text[i] == U' ') {
      flush_text(i);
      segment_start = i;
    }
    const AddedPiece* added = nullptr;
    for (const AddedPiece& a : added_)
      if (matches_at(i, a)) {
        added = &a;
        break;
      }
    if (!added) {
      ++i;
      continue;
    }
    flush_text(i);
    Token t;
    t.text = vocab_[static_cast<size_t>(added->id)];
    t.id = added->id;
    t.start = static_cast<std::int32_t>(i);
    t.end = static_cast<std::int32_t>(i + added->text.size());
    t.word = word_index++;
    t.sequence = sequence;
    t.type_id = sequence;
    t.special = added->special;
    out.push_back(t);
    i += added->text.size();
    segment_start = i;
  }
  flush_text(text.size());
  if (out.size() > limit) {  // the last word's pieces ran past it
    out.resize(limit);
    unread = true;
  }
  if (more) *more = unread;
  return out;
}

Encoding Tokenizer::encode(std::string_view text, std::optional<std::string_view> text_pair, int max_length) const {
  if (max_length <= 0) max_length = model_max_length();
  const int specials = special_tokens_added(text_pair.has_value());
  if (max_length < specials)  // equal is allowed, as in tokenizers: the special tokens alone
    throw Error("max_length " + std::to_string(max_length) + " is too small: the model adds " + std::to_string(specials) +
                " special tokens");
  const size_t budget = static_cast<size_t>(max_length - specials);
  // A single text is read only as far as truncation keeps it, and a little beyond so that truncated_tokens stays
  // exact for texts up to twice too long: a megabyte of text costs what its first tokens cost. A pair is read whole
  // (longest-first truncation needs both lengths), as are QA's and NER's windows (they call tokenize).
  bool more = false;
  std::vector<Token> a = text_pair ? tokenize(text, 0) : tokenize_prefix(text, 0, 2 * budget + 1, &more);
  std::vector<Token> b;
  if (text_pair) b = tokenize(*text_pair, 1);
  const int truncated = truncate_longest_first(a, text_pair ? &b : nullptr, budget);
  Encoding enc = with_special_tokens(std::move(a), text_pair ? &b : nullptr);
  enc.truncated_tokens = truncated;
  enc.truncated_at_least = more;
  return enc;
}

TokenBatch Tokenizer::pad_batch(const std::vector<const Encoding*>& encodings) const {
  TokenBatch b;
  b.batch = static_cast<int>(encodings.size());
  for (const Encoding* e : encodings) b.seq_len = std::max(b.seq_len, static_cast<int>(e->size()));
  const size_t T = static_cast<size_t>(b.seq_len);
  for (const Encoding* e : encodings)
    for (size_t t = 0; t < T; ++t) {
      const bool real = t < e->size();
      b.ids.push_back(real ? e->tokens[t].id : pad_id());
      b.type_ids.push_back(real ? e->tokens[t].type_id : 0);
      b.mask.push_back(real ? 1 : 0);
    }
  return b;
}

int truncate_longest_first(std::vector<Token>& a, std::vector<Token>* b, size_t budget) {
  const size_t before = a.size() + (b ? b->size() : 0);
  if (before <= budget) return 0;
  if (!b) {
    a.resize(budget);
  } else {
    size_t n1 = std::min(a.size(), b->size()), n2 = std::max(a.size(), b->size());
    n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = budget / 2;
      n2 = n1 + budget % 2;
    }
    if (a.size() > b->size()) std::swap(n1, n2);
    a.resize(std::min(a.size(), n1));
    b->resize(std::min(b->size(), n2));
  }
  return static_cast<int>(before - a.size() - (b ? b->size() : 0));
}

Encoding WordPieceTokenizer::with_special_tokens(std::vector<Token> a, const std::vector<Token>* second) const {
  Encoding enc;
  auto added = [&](std::int32_t id, std::int32_t type) {
    Token t;
    t.id = id;
    t.text = vocab_[id];
    t.type_id = type;
    t.special = true;
    return t;
  };
  enc.tokens.push_back(added(cls_id_, 0));
  enc.tokens.insert(enc.tokens.end(), a.begin(), a.end());
  enc.tokens.push_back(added(sep_id_, 0));
  if (second) {
    for (Token t : *second) {
      t.type_id = 1;
      enc.tokens.push_back(std::move(t));
    }
    enc.tokens.push_back(added(sep_id_, 1));
  }
  return enc;
}

std::string WordPieceTokenizer::decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens) const {
  std::string out;
  bool first = true;
  for (std::int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= vocab_.size()) continue;
    if (skip_special_tokens && is_special(id)) continue;
    const std::string& t = vocab_[id];
    if (!first && t.rfind("##", 0) == 0) {
      out += t.substr(2);
    } else {
      if (!first) out += ' ';
      out += t;
    }
    first = false;
  }
  // clean_up_tokenization_spaces, as Hugging Face does it.
  const std::pair<const char*, const char*> fixes[] = {{" .", "."},   {" ?", "?"},   {" !", "!"},     {" ,", ","},
                                                       {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"},
                                                       {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : fixes) {
    const std::string f = from, t = to;
    for (size_t pos = out.find(f); pos != std::string::npos; pos = out.find(f, pos + t.size())) out.replace(pos, f.size(), t);
  }
  return out;
}

std::string WordPieceTokenizer::tokens_to_string(const std::vector<std::string>& tokens) const {
  static const std::pair<std::string_view, std::string_view> fixes[] = {
      {" .", "."},    {" ?", "?"},     {" !", "!"},     {" ,", ","},          {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string piece = tokens[i];
    if (i > 0) piece = piece.rfind("##", 0) == 0 ? piece.substr(2) : " " + piece;  // the first keeps its "##"
    for (const auto& [from, to] : fixes) {  // tokenizers cleans each token on its own, before joining
      for (size_t pos = piece.find(from); pos != std::string::npos; pos = piece.find(from, pos + to.size()))
        piece.replace(pos, from.size(), to);
    }
    out += piece;
  }
  return out;
}

bool WordPieceTokenizer::continues_word(const Encoding& encoding, size_t index) const {
  const Token& t = encoding.tokens.at(index);
  return index > 0 && !t.special && t.text.rfind("##", 0) == 0;
}

}  // namespace bertscope
