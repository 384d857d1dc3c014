#include "text/byte_level_bpe.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <mutex>
#include <queue>
#include <sstream>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "core/error.h"
#include "core/json_io.h"
#include "text/unicode.h"

namespace fs = std::filesystem;

namespace bertscope {

// ---------------------------------------------------------------------------------------------------------------
// Character classes of GPT-2's pattern and of Hugging Face's added-token matching.
namespace {

utf8proc_category_t category(char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)); }

// Unicode's White_Space property: what \s means to the Rust regex crate and Oniguruma (Hugging Face's two engines),
// and Rust's char::is_whitespace. (JavaScript's \s differs: it has U+FEFF and lacks U+0085.)
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

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

enum class Kind { Space, Letter, Number, Other };
Kind kind(char32_t c) {
  if (is_white_space(c)) return Kind::Space;
  if (is_letter(c)) return Kind::Letter;
  if (is_number(c)) return Kind::Number;
  return Kind::Other;
}

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

// GPT-2's byte <-> character map: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls, space,
// 0x7F-0xA0, 0xAD) take code points 256, 257, ... in byte order. The space (0x20) becomes U+0120 "Ġ".
struct ByteMap {
  std::array<char32_t, 256> to_char{};
  std::array<std::string, 256> to_utf8;  // to_char as UTF-8
  std::array<std::int16_t, 512> to_byte{};  // by code point (all are below 512), -1 for none

  ByteMap() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[b]] = static_cast<std::int16_t>(b);
      unicode::append_utf8(to_utf8[b], to_char[b]);
    }
  }
  int byte_of(char32_t c) const { return c < 512 ? to_byte[c] : -1; }
};

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

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
}

std::string quote_token(std::string_view s) {  // for messages: at most 40 bytes, valid UTF-8
  std::string t = lossy_utf8(s.substr(0, 40));
  return "'" + t + (s.size() > 40 ? "...'" : "'");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// The word cache (Hugging Face's: words under 256 bytes, at most 10,000 of them, never evicted).

struct ByteLevelBpe::Cache {
  static constexpr size_t kCapacity = 10000, kMaxWordBytes = 256;
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<Piece>> words;
};

// ---------------------------------------------------------------------------------------------------------------
// Construction.

ByteLevelBpe::ByteLevelBpe(std::vector<std::string> vocab, const std::vector<Merge>& merges,
                           std::vector<AddedToken> added, ByteLevelBpeOptions options, ByteLevelBpeRoles roles,
                           std::optional<std::string> unk_token, bool fuse_unk)
    : vocab_(std::move(vocab)), fuse_unk_(fuse_unk), options_(options), cache_(std::make_shared<Cache>()) {
  if (vocab_.empty()) throw Error("the vocabulary is empty");
  for (size_t i = 0; i < vocab_.size(); ++i) {
    if (vocab_[i].empty()) continue;  // an id no entry has
    const auto [it, fresh] = ids_.emplace(vocab_[i], static_cast<std::int32_t>(i));
    if (!fresh)
      throw Error("the vocabulary has " + quote_token(vocab_[i]) + " twice (ids " + std::to_string(it->second) +
                  " and " + std::to_string(i) + ")");
  }
  // Added tokens: one already in the vocabulary keeps its id; a new one takes the id it comes with, just past the
  // vocabulary (at most one id per added token, so a bad id cannot make us allocate gigabytes).
  const size_t model_size = vocab_.size();
  for (auto& t : added) {
    if (t.content.empty()) continue;  // Hugging Face ignores these too
    if (const auto it = ids_.find(t.content); it != ids_.end()) {
      if (t.id >= 0 && t.id != it->second)
        throw Error("added token " + quote_token(t.content) + " has id " + std::to_string(t.id) +
                    " but the vocabulary gives it " + std::to_string(it->second));
      t.id = it->second;
    } else {
      if (t.id < 0) t.id = static_cast<std::int32_t>(vocab_.size());  // none given: the next free id
      if (static_cast<size_t>(t.id) >= model_size + added.size())
        throw Error("added token " + quote_token(t.content) + " has id " + std::to_string(t.id) + ", outside 0.." +
                    std::to_string(model_size + added.size() - 1));
      if (static_cast<size_t>(t.id) >= vocab_.size()) vocab_.resize(static_cast<size_t>(t.id) + 1);
      if (!vocab_[t.id].empty())
        throw Error("added token " + quote_token(t.content) + " has id " + std::to_string(t.id) +
                    ", which is already " + quote_token(vocab_[t.id]));
      vocab_[t.id] = t.content;
      ids_.emplace(t.content, t.id);
    }
    if (std::any_of(added_.begin(), added_.end(), [&](const AddedToken& a) { return a.content == t.content; }))
      continue;  // listed twice: the first one counts
    added_.push_back(t);
  }
  if (unk_token) {
    const auto it = ids_.find(*unk_token);
    if (it == ids_.end()) throw Error("the unknown token " + quote_token(*unk_token) + " is not in the vocabulary");
    unk_token_id_ = it->second;
  }
  build_tables(merges);
  resolve_roles(roles);
}

void ByteLevelBpe::build_tables(const std::vector<Merge>& merges) {
  const ByteMap& map = byte_map();
  for (int b = 0; b < 256; ++b) {
    const auto it = ids_.find(map.to_utf8[b]);
    byte_ids_[b] = it == ids_.end() ? -1 : it->second;
  }
  auto id_of = [&](const std::string& s, size_t rank, const Merge& m) {
    const auto it = ids_.find(s);
    if (it == ids_.end())
      throw Error("merge " + std::to_string(rank + 1) + " (" + quote_token(m.first) + " " + quote_token(m.second) +
                  "): " + quote_token(s) + " is not in the vocabulary");
    return it->second;
  };
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Merge& m = merges[rank];
    const std::int32_t a = id_of(m.first, rank, m), b = id_of(m.second, rank, m);
    const std::int32_t merged = id_of(m.first + m.second, rank, m);
    merges_[pair_key(a, b)] = {static_cast<std::int32_t>(rank), merged};  // a pair listed twice: the later rank wins
  }
  edge_spaces_.reserve(vocab_.size());
  for (const auto& entry : vocab_) edge_spaces_.push_back(edge_spaces(unicode::decode_utf8(entry)));
  // Added tokens by first code point, longest first: leftmost-longest matching looks only at these.
  for (size_t i = 0; i < added_.size(); ++i) added_text_.push_back(unicode::decode_utf8(added_[i].content));
  for (size_t i = 0; i < added_.size(); ++i) added_by_first_[added_text_[i][0]].push_back(static_cast<int>(i));
  for (auto& [c, list] : added_by_first_)
    std::stable_sort(list.begin(), list.end(),
                     [&](int a, int b) { return added_text_[a].size() > added_text_[b].size(); });
}

void ByteLevelBpe::resolve_roles(const ByteLevelBpeRoles& roles) {
  auto id = [&](const std::string& name) -> std::int32_t {
    if (name.empty()) return -1;
    const auto it = ids_.find(name);
    return it == ids_.end() ? -1 : it->second;
  };
  cls_id_ = id(roles.cls);
  sep_id_ = id(roles.sep);
  pad_id_ = id(roles.pad);
  unk_id_ = id(roles.unk);
  mask_id_ = id(roles.mask);
  if (cls_id_ < 0) throw Error("the vocabulary lacks the cls token " + quote_token(roles.cls) + " (RoBERTa's <s>)");
  if (sep_id_ < 0) throw Error("the vocabulary lacks the sep token " + quote_token(roles.sep) + " (RoBERTa's </s>)");
  special_.assign(vocab_.size(), false);
  for (const auto& t : added_)
    if (t.special) special_[t.id] = true;
  special_[cls_id_] = special_[sep_id_] = true;  // RobertaProcessing adds them: special whatever the file says
}

// ---------------------------------------------------------------------------------------------------------------
// Added tokens: Hugging Face's AddedVocabulary. First the tokens not "normalized" are cut out of the raw text, then
// the normalized ones out of the pieces left (RoBERTa has no normalizer, so only the order of the passes matters).

std::vector<ByteLevelBpe::Segment> ByteLevelBpe::split_added(std::u32string_view text) const {
  std::vector<Segment> first, out;
  split_pass(text, 0, text.size(), false, first);
  for (const Segment& s : first) {
    if (s.added >= 0) out.push_back(s);
    else split_pass(text, s.begin, s.end, true, out);
  }
  return out;
}

// The leftmost added token (of the pass's kind) in text[from, end), the longest one there; -1 when none.
int ByteLevelBpe::find_added(std::u32string_view text, size_t from, size_t end, bool normalized, size_t& at) const {
  for (at = from; at < end; ++at) {
    const auto it = added_by_first_.find(text[at]);
    if (it == added_by_first_.end()) continue;
    for (int i : it->second) {
      const std::u32string& t = added_text_[i];
      if (added_[i].normalized == normalized && t.size() <= end - at && text.compare(at, t.size(), t) == 0) return i;
    }
  }
  return -1;
}

void ByteLevelBpe::split_pass(std::u32string_view text, size_t begin, size_t end, bool normalized,
                              std::vector<Segment>& out) const {
  size_t start_offset = begin;  // where the stretch not yet given out starts
  size_t search = begin;
  while (search < end) {
    size_t start = 0;
    const int found = find_added(text, search, end, normalized, start);
    if (found < 0) break;
    const AddedToken& token = added_[found];
    size_t stop = start + added_text_[found].size();
    if (token.single_word) {  // a word character touching either side: not this token here
      const bool free_left = start == begin || !is_word_char(text[start - 1]);
      const bool free_right = stop == end || !is_word_char(text[stop]);
      if (!free_left || !free_right) {
        search = stop;
        continue;
      }
    }
    if (token.lstrip)
      while (start > start_offset && is_white_space(text[start - 1])) --start;
    if (token.rstrip)
      while (stop < end && is_white_space(text[stop])) ++stop;
    // Searching on after the whitespace rstrip took (Hugging Face searches on from the token's own end; the two
    // differ only for an added token that starts with whitespace right after one with rstrip).
    search = stop;
    if (start_offset < start) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, found});
    start_offset = stop;
  }
  if (start_offset < end) out.push_back({start_offset, end, -1});
}

// ---------------------------------------------------------------------------------------------------------------
// BPE over one word (GPT-2 split), as Hugging Face's Word::merge_all: a heap of the adjacent pairs that have a merge,
// lowest rank first, leftmost first on a tie; an entry whose pair has changed since it was queued is skipped.
// O(n log n) in the word's bytes, so a long word needs no cap.

std::vector<ByteLevelBpe::Piece> ByteLevelBpe::merge_word(const std::string& word) const {
  if (options_.ignore_merges) {
    const auto it = ids_.find(to_byte_level(word));
    if (it != ids_.end()) return {{it->second, 0, static_cast<std::uint32_t>(word.size())}};
  }
  struct Symbol {
    std::int32_t id;
    std::int32_t prev, next;  // neighbours still alive, -1 at the ends
    std::uint32_t begin, end;
    bool alive;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto add = [&](std::int32_t id, std::uint32_t begin, std::uint32_t end) {
    const auto n = static_cast<std::int32_t>(symbols.size());
    if (n > 0) symbols.back().next = n;
    symbols.push_back({id, n - 1, -1, begin, end, true});
  };
  for (std::uint32_t i = 0; i < word.size(); ++i) {
    const std::int32_t id = byte_ids_[static_cast<unsigned char>(word[i])];
    if (id >= 0) {
      add(id, i, i + 1);
    } else if (unk_token_id_) {  // a byte missing from the vocabulary: the unknown token (consecutive ones fused)
      if (fuse_unk_ && !symbols.empty() && symbols.back().id == *unk_token_id_ && symbols.back().end == i)
        symbols.back().end = i + 1;
      else
        add(*unk_token_id_, i, i + 1);
    }
    // else dropped, as Hugging Face drops a character its BPE model cannot represent when it has no unk_token
    // (RoBERTa's vocabulary has all 256 bytes, so this never happens there).
  }
  struct Candidate {
    std::int32_t rank, pos, id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](std::int32_t pos) {
    if (pos < 0 || symbols[pos].next < 0) return;
    const auto it = merges_.find(pair_key(symbols[pos].id, symbols[symbols[pos].next].id));
    if (it != merges_.end()) queue.push({it->second.first, pos, it->second.second});
  };
  for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    const auto it = merges_.find(pair_key(left.id, symbols[left.next].id));
    if (it == merges_.end() || it->second.second != top.id) continue;  // stale: the pair there has changed
    Symbol& right = symbols[left.next];
    left.id = top.id;
    left.end = right.end;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
  std::vector<Piece> pieces;
  for (const Symbol& s : symbols)
    if (s.alive) pieces.push_back({s.id, s.begin, s.end});
  return pieces;
}

std::vector<ByteLevelBpe::Piece> ByteLevelBpe::bpe(const std::string& word) const {
  const bool cacheable = word.size() < Cache::kMaxWordBytes;
  if (cacheable) {
    std::lock_guard lock(cache_->mutex);
    if (const auto it = cache_->words.find(word); it != cache_->words.end()) return it->second;
  }
  std::vector<Piece> pieces = merge_word(word);
  if (cacheable) {
    std::lock_guard lock(cache_->mutex);
    if (cache_->words.size() < Cache::kCapacity) cache_->words.emplace(word, pieces);
  }
  return pieces;
}

// ---------------------------------------------------------------------------------------------------------------
// One sentence.

// How many of a token's first and last characters are spaces to RobertaProcessing's trim_offsets: "Ġ", or real
// whitespace (an added token's text that took it by lstrip/rstrip).
std::pair<std::int32_t, std::int32_t> ByteLevelBpe::edge_spaces(std::u32string_view value) {
  auto spacey = [](char32_t c) { return c == 0x120 || is_white_space(c); };
  std::int32_t leading = 0, trailing = 0;
  while (static_cast<size_t>(leading) < value.size() && spacey(value[leading])) ++leading;
  while (static_cast<size_t>(trailing) < value.size() && spacey(value[value.size() - 1 - trailing])) ++trailing;
  return {leading, trailing};
}

// RobertaProcessing's trim_offsets (tokenizers' process_offsets): the spaces a token's text starts or ends with are
// left out of its span. With add_prefix_space, the first token keeps a single leading space (it is the one the
// pre-tokenizer added).
void ByteLevelBpe::trim(Token& token, std::pair<std::int32_t, std::int32_t> spaces, bool first_of_sentence) const {
  auto [leading, trailing] = spaces;
  if (leading > 0) {
    if ((first_of_sentence || token.start == 0) && options_.add_prefix_space && leading == 1) leading = 0;
    token.start = std::min(token.start + leading, token.end);
  }
  if (trailing > 0 && token.end >= trailing) token.end = std::max(token.end - trailing, token.start);
}

// Text between added tokens, text[begin, end): prefix space, GPT-2 split, bytes, BPE.
void ByteLevelBpe::tokenize_text(std::u32string_view text, size_t begin, size_t end, int sequence, int& word,
                                 std::vector<Token>& out) const {
  std::u32string piece;
  std::vector<std::int32_t> origin;  // original code point index of each character of `piece`
  if (options_.add_prefix_space && text[begin] != U' ') {
    piece.push_back(U' ');  // stands for (and offsets as) the piece's first character, as Hugging Face aligns it
    origin.push_back(static_cast<std::int32_t>(begin));
  }
  for (size_t i = begin; i < end; ++i) {
    piece.push_back(text[i]);
    origin.push_back(static_cast<std::int32_t>(i));
  }
  std::string bytes;
  std::vector<std::int32_t> byte_origin;
  for (size_t i = 0; i < piece.size();) {
    const size_t stop = options_.use_regex ? gpt2_match_end(piece, i) : piece.size();
    bytes.clear();
    byte_origin.clear();
    for (size_t k = i; k < stop; ++k) {
      const size_t before = bytes.size();
      unicode::append_utf8(bytes, piece[k]);
      byte_origin.insert(byte_origin.end(), bytes.size() - before, origin[k]);
    }
    for (const Piece& p : bpe(bytes)) {
      Token t;
      t.id = p.id;
      t.text = vocab_[p.id];
      t.start = byte_origin[p.begin];
      t.end = byte_origin[p.end - 1] + 1;  // a token holding part of a character covers all of it
      t.word = word;
      t.sequence = sequence;
      t.unknown = unk_token_id_ && p.id == *unk_token_id_;
      out.push_back(std::move(t));
    }
    ++word;
    i = stop;
  }
}

std::vector<Token> ByteLevelBpe::tokenize(std::string_view text_utf8, int sequence) const {
  const std::u32string text = unicode::decode_utf8(text_utf8);
  std::vector<Token> out;
  out.reserve(text.size() / 3);
  std::vector<std::pair<std::int32_t, std::int32_t>> spaces;  // what trim leaves out of each token
  int word = 0;
  for (const Segment& s : split_added(text)) {
    const size_t first = out.size();
    if (s.added < 0) {
      tokenize_text(text, s.begin, s.end, sequence, word, out);
      for (size_t i = first; i < out.size(); ++i) spaces.push_back(edge_spaces_[out[i].id]);
      continue;
    }
    const AddedToken& a = added_[s.added];
    Token t;
    t.id = a.id;
    t.text = a.content;
    t.start = static_cast<std::int32_t>(s.begin);
    t.end = static_cast<std::int32_t>(s.end);
    t.word = word++;
    t.sequence = sequence;
    t.special = a.special;
    out.push_back(std::move(t));
    spaces.push_back(edge_spaces(std::u32string_view(text).substr(s.begin, s.end - s.begin)));  // with lstrip's
  }
  if (options_.trim_offsets)
    for (size_t i = 0; i < out.size(); ++i) trim(out[i], spaces[i], i == 0);
  return out;
}

Encoding ByteLevelBpe::encode(std::string_view text, std::optional<std::string_view> text_pair, int max_length) const {
  if (max_length <= 0) max_length = options_.model_max_length;
  std::vector<Token> a = tokenize(text, 0);
  std::vector<Token> b;
  if (text_pair) b = tokenize(*text_pair, 1);
  const int specials = special_tokens_added(text_pair.has_value());
  if (max_length < specials)
    throw Error("max_length " + std::to_string(max_length) + " is too small: RoBERTa adds " + std::to_string(specials) +
                " tokens");
  const int truncated = truncate_longest_first(a, text_pair ? &b : nullptr, static_cast<size_t>(max_length - specials));
  Encoding enc = with_special_tokens(std::move(a), text_pair ? &b : nullptr);
  enc.truncated_tokens = truncated;
  return enc;
}

Encoding ByteLevelBpe::with_special_tokens(std::vector<Token> a, const std::vector<Token>* second) const {
  Encoding enc;
  auto added = [&](std::int32_t id) {
    Token t;
    t.id = id;
    t.text = vocab_[id];
    t.special = true;
    return t;
  };
  enc.tokens.reserve(a.size() + (second ? second->size() : 0) + special_tokens_added(second != nullptr));
  enc.tokens.push_back(added(cls_id_));
  enc.tokens.insert(enc.tokens.end(), a.begin(), a.end());
  enc.tokens.push_back(added(sep_id_));
  if (second) {  // RoBERTa's type ids are all 0, the second sentence's too
    enc.tokens.push_back(added(sep_id_));
    for (Token t : *second) {
      t.type_id = 0;
      enc.tokens.push_back(std::move(t));
    }
    enc.tokens.push_back(added(sep_id_));
  }
  return enc;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding and lookups.

std::string ByteLevelBpe::to_byte_level(std::string_view bytes) {
  const ByteMap& map = byte_map();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += map.to_utf8[static_cast<unsigned char>(c)];
  return out;
}

std::string ByteLevelBpe::from_byte_level(std::string_view byte_level) {
  const ByteMap& map = byte_map();
  std::string out;
  for (char32_t c : unicode::decode_utf8(byte_level)) {
    const int b = map.byte_of(c);
    if (b < 0) return std::string(byte_level);  // not a byte-level string (an added token such as "<mask>" is)
    out += static_cast<char>(b);
  }
  return out;
}

std::string ByteLevelBpe::decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (std::int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= vocab_.size() || vocab_[id].empty()) continue;
    if (skip_special_tokens && is_special(id)) continue;
    bytes += from_byte_level(vocab_[id]);
  }
  std::string text = lossy_utf8(bytes);
  if (options_.clean_up_tokenization_spaces) clean_up_tokenization(text);
  return text;
}

std::string ByteLevelBpe::readable(std::int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.size()) return {};
  return lossy_utf8(from_byte_level(vocab_[id]));
}

bool ByteLevelBpe::continues_word(const Encoding& encoding, size_t index) const {
  if (index == 0 || index >= encoding.tokens.size()) return false;
  const Token& t = encoding.tokens[index];
  const Token& prev = encoding.tokens[index - 1];
  if (t.special || prev.special || t.sequence < 0 || t.sequence != prev.sequence) return false;
  const std::u32string here = unicode::decode_utf8(lossy_utf8(from_byte_level(t.text)));
  const std::u32string before = unicode::decode_utf8(lossy_utf8(from_byte_level(prev.text)));
  if (here.empty() || before.empty()) return false;
  return !is_white_space(here.front()) && !is_white_space(before.back());
}

std::optional<std::int32_t> ByteLevelBpe::find(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

bool ByteLevelBpe::is_special(std::int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < special_.size() && special_[id];
}

// ---------------------------------------------------------------------------------------------------------------
// Loading a model folder.

namespace {

// obj[key], or null when obj is not an object or has no such key.
const nlohmann::json& member(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json null;
  if (!obj.is_object()) return null;
  const auto it = obj.find(key);
  return it == obj.end() ? null : *it;
}

std::optional<bool> boolean(const nlohmann::json& obj, const char* key, const std::string& file) {
  const auto& v = member(obj, key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_boolean()) throw Error(file + ": " + key + " should be true or false, not " + describe_json(v));
  return v.get<bool>();
}

std::int32_t vocab_id(const nlohmann::json& v, const std::string& token, const std::string& file) {
  if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= (1LL << 28))
    throw Error(file + ": the id of " + quote_token(token) + " is " + describe_json(v) + ", not an id from 0 to 2^28");
  return static_cast<std::int32_t>(v.get<long long>());
}

// {"token": id, ...} (vocab.json, or tokenizer.json's model.vocab) as id -> token.
std::vector<std::string> read_vocab(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object() || j.empty()) throw Error(file + ": the vocabulary should be a non-empty {\"token\": id} object");
  std::vector<std::pair<std::int32_t, std::string>> entries;
  for (const auto& [token, id] : j.items()) {
    if (token.empty()) throw Error(file + ": the vocabulary has an empty token");
    entries.emplace_back(vocab_id(id, token, file), token);
  }
  std::vector<std::string> vocab(entries.size());
  for (auto& [id, token] : entries) {
    if (static_cast<size_t>(id) >= vocab.size())
      throw Error(file + ": id " + std::to_string(id) + " of " + quote_token(token) + " is outside 0.." +
                  std::to_string(vocab.size() - 1) + " (ids must number the entries)");
    if (!vocab[id].empty())
      throw Error(file + ": id " + std::to_string(id) + " is both " + quote_token(vocab[id]) + " and " +
                  quote_token(token));
    vocab[id] = std::move(token);
  }
  return vocab;
}

// One merge written as "left right" (merges.txt, or tokenizer.json before tokenizers 0.20), split as Hugging Face
// does: at single spaces, into exactly two parts.
std::optional<ByteLevelBpe::Merge> parse_merge_line(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= line.size()) return std::nullopt;
  if (line.find(' ', space + 1) != std::string_view::npos) return std::nullopt;
  return ByteLevelBpe::Merge{std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

std::vector<ByteLevelBpe::Merge> read_merges_txt(const fs::path& path) {
  constexpr std::uintmax_t kMaxBytes = 64u << 20;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw Error(path.string() + ": cannot open (" + ec.message() + ")");
  if (size > kMaxBytes)
    throw Error(path.string() + ": " + std::to_string(size) + " bytes, more than a merges file may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::vector<ByteLevelBpe::Merge> merges;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // written on Windows
    if (line.empty()) continue;                                  // the final newline, or a blank line
    if (line.rfind("#version", 0) == 0) continue;                // "#version: 0.2", as Hugging Face skips it
    auto merge = parse_merge_line(line);
    if (!merge)
      throw Error(path.string() + " line " + std::to_string(number) + ": " + quote_token(line) +
                  " is not two tokens separated by one space");
    merges.push_back(std::move(*merge));
  }
  return merges;
}

std::vector<ByteLevelBpe::Merge> read_json_merges(const nlohmann::json& j, const std::string& file) {
  if (!j.is_array()) throw Error(file + ": model.merges should be an array, not " + describe_json(j));
  std::vector<ByteLevelBpe::Merge> merges;
  merges.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    std::optional<ByteLevelBpe::Merge> merge;
    if (m.is_string()) merge = parse_merge_line(m.get<std::string>());
    else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
      merge = ByteLevelBpe::Merge{m[0].get<std::string>(), m[1].get<std::string>()};
    if (!merge || merge->first.empty() || merge->second.empty())
      throw Error(file + ": model.merges[" + std::to_string(i) + "] is " + describe_json(m) +
                  ", not \"left right\" or [\"left\", \"right\"]");
    merges.push_back(std::move(*merge));
  }
  return merges;
}

AddedToken read_added_token(const nlohmann::json& t, const std::string& where, const std::string& file) {
  const auto& content = member(t, "content");
  if (!content.is_string()) throw Error(file + ": " + where + " has no \"content\" string");
  AddedToken a;
  a.content = content.get<std::string>();
  if (const auto& id = member(t, "id"); !id.is_null()) a.id = vocab_id(id, a.content, file);
  // tokenizers' AddedToken defaults: not special, normalized, no stripping.
  a.special = boolean(t, "special", file).value_or(false);
  a.lstrip = boolean(t, "lstrip", file).value_or(false);
  a.rstrip = boolean(t, "rstrip", file).value_or(false);
  a.single_word = boolean(t, "single_word", file).value_or(false);
  a.normalized = boolean(t, "normalized", file).value_or(true);
  return a;
}

// What tokenizer_config.json and special_tokens_map.json say (the second wins, as in transformers).
struct FolderConfig {
  ByteLevelBpeRoles roles;
  std::array<bool, 5> named{};         // roles a file names (a missing one is then an error, not "none")
  std::array<std::string, 5> named_in;  // which file
  std::vector<AddedToken> role_tokens;  // roles given as objects, with their flags
  std::vector<AddedToken> added_tokens_decoder;
  std::optional<bool> add_prefix_space, trim_offsets, clean_up;
  std::optional<double> model_max_length;
  bool has_tokenizer_config = false;
};

constexpr const char* kRoleKeys[5] = {"cls_token", "sep_token", "pad_token", "unk_token", "mask_token"};

std::string* role_slot(ByteLevelBpeRoles& roles, int i) {
  std::string* slots[5] = {&roles.cls, &roles.sep, &roles.pad, &roles.unk, &roles.mask};
  return slots[i];
}

void read_roles(const nlohmann::json& j, const std::string& file, FolderConfig& config) {
  for (int i = 0; i < 5; ++i) {
    const auto it = j.find(kRoleKeys[i]);
    if (it == j.end()) continue;
    const nlohmann::json& v = *it;
    std::string name;
    if (v.is_null()) {
      name.clear();  // the model has none
    } else if (v.is_string()) {
      name = v.get<std::string>();
    } else if (v.is_object()) {  // a serialised AddedToken: {"content": "<mask>", "lstrip": true, ...}
      AddedToken a = read_added_token(v, kRoleKeys[i], file);
      a.special = true;
      name = a.content;
      config.role_tokens.push_back(a);
    } else {
      throw Error(file + ": " + kRoleKeys[i] + " should be a string or an object, not " + describe_json(v));
    }
    *role_slot(config.roles, i) = name;
    config.named[i] = !name.empty();
    config.named_in[i] = file;
  }
}

FolderConfig read_folder_config(const fs::path& folder) {
  FolderConfig config;
  const fs::path tokenizer_config = folder / "tokenizer_config.json", map = folder / "special_tokens_map.json";
  if (fs::exists(tokenizer_config)) {
    config.has_tokenizer_config = true;
    const std::string file = tokenizer_config.string();
    const nlohmann::json c = read_json_file(tokenizer_config);
    if (!c.is_object()) throw Error(file + ": should be a JSON object");
    read_roles(c, file, config);
    config.add_prefix_space = boolean(c, "add_prefix_space", file);
    config.trim_offsets = boolean(c, "trim_offsets", file);
    config.clean_up = boolean(c, "clean_up_tokenization_spaces", file);
    if (const auto& m = member(c, "model_max_length"); m.is_number()) config.model_max_length = m.get<double>();
    if (const auto& d = member(c, "added_tokens_decoder"); !d.is_null()) {
      if (!d.is_object()) throw Error(file + ": added_tokens_decoder should be an {\"id\": token} object");
      for (const auto& [key, t] : d.items()) {
        AddedToken a = read_added_token(t, "added_tokens_decoder[\"" + key + "\"]", file);
        try {
          size_t used = 0;
          const long long id = std::stoll(key, &used);
          if (used != key.size() || id < 0 || id >= (1LL << 28)) throw std::invalid_argument(key);
          a.id = static_cast<std::int32_t>(id);
        } catch (const std::exception&) {
          throw Error(file + ": added_tokens_decoder key " + quote_token(key) + " is not an id");
        }
        config.added_tokens_decoder.push_back(a);
      }
    }
  }
  if (fs::exists(map)) {
    const nlohmann::json m = read_json_file(map);
    if (!m.is_object()) throw Error(map.string() + ": should be a JSON object");
    read_roles(m, map.string(), config);
  }
  return config;
}

struct ModelFiles {  // what tokenizer.json or vocab.json + merges.txt give
  std::vector<std::string> vocab;
  std::vector<ByteLevelBpe::Merge> merges;
  std::vector<AddedToken> added;
  ByteLevelBpeOptions options;
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  std::optional<std::pair<std::string, std::int32_t>> cls, sep;  // RobertaProcessing's
  std::string source;  // the file(s), for messages
};

std::pair<std::string, std::int32_t> processor_token(const nlohmann::json& p, const char* key,
                                                     const std::string& file) {
  const auto& v = member(p, key);
  if (!v.is_array() || v.size() != 2 || !v[0].is_string())
    throw Error(file + ": post_processor." + key + " should be [\"token\", id], not " + describe_json(v));
  return {v[0].get<std::string>(), vocab_id(v[1], v[0].get<std::string>(), file)};
}

ModelFiles read_tokenizer_json(const fs::path& path) {
  const std::string file = path.string();
  const nlohmann::json j = read_json_file(path);
  ModelFiles m;
  m.source = file;
  const auto& model = member(j, "model");
  const auto& type = member(model, "type");
  if (type != "BPE")
    throw Error(file + ": model.type is " + describe_json(type) + "; a RoBERTa (byte-level BPE) tokenizer has \"BPE\"");
  m.vocab = read_vocab(member(model, "vocab"), file);
  m.merges = read_json_merges(member(model, "merges"), file);
  if (const auto& unk = member(model, "unk_token"); unk.is_string()) m.unk_token = unk.get<std::string>();
  m.fuse_unk = boolean(model, "fuse_unk", file).value_or(false);
  m.options.ignore_merges = boolean(model, "ignore_merges", file).value_or(false);
  if (boolean(model, "byte_fallback", file).value_or(false))
    throw Error(file + ": model.byte_fallback is not supported (a byte-level BPE has every byte already)");
  if (const auto& d = member(model, "dropout"); !d.is_null() && !(d.is_number() && d.get<double>() == 0))
    throw Error(file + ": model.dropout " + describe_json(d) + " is not supported (it makes tokenization random)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const auto& v = member(model, key); !v.is_null() && v != "")
      throw Error(file + ": model." + key + " " + describe_json(v) + " is not supported (RoBERTa has none)");
  if (const auto& n = member(j, "normalizer"); !n.is_null())
    throw Error(file + ": normalizer " + describe_json(member(n, "type")) + " is not supported (RoBERTa has none)");
  const auto& pre = member(j, "pre_tokenizer");
  if (member(pre, "type") != "ByteLevel")
    throw Error(file + ": pre_tokenizer is " + describe_json(member(pre, "type")) + "; RoBERTa's is \"ByteLevel\"");
  m.options.add_prefix_space = boolean(pre, "add_prefix_space", file).value_or(true);  // tokenizers' default
  m.options.use_regex = boolean(pre, "use_regex", file).value_or(true);
  const auto& post = member(j, "post_processor");
  if (member(post, "type") != "RobertaProcessing")
    throw Error(file + ": post_processor is " + describe_json(member(post, "type")) +
                "; RoBERTa's is \"RobertaProcessing\"");
  m.cls = processor_token(post, "cls", file);
  m.sep = processor_token(post, "sep", file);
  m.options.trim_offsets = boolean(post, "trim_offsets", file).value_or(true);
  if (const auto& added = member(j, "added_tokens"); !added.is_null()) {
    if (!added.is_array()) throw Error(file + ": added_tokens should be an array");
    for (size_t i = 0; i < added.size(); ++i)
      m.added.push_back(read_added_token(added[i], "added_tokens[" + std::to_string(i) + "]", file));
  }
  return m;
}

ModelFiles read_vocab_and_merges(const fs::path& folder) {
  const fs::path vocab = folder / "vocab.json", merges = folder / "merges.txt";
  ModelFiles m;
  m.source = vocab.string() + " + " + merges.string();
  m.vocab = read_vocab(read_json_file(vocab), vocab.string());
  m.merges = read_merges_txt(merges);
  // transformers converts these with RobertaConverter: no unk_token in the BPE model, trim_offsets on.
  return m;
}

}  // namespace

ByteLevelBpe ByteLevelBpe::load(const fs::path& folder, int max_tokens) {
  if (max_tokens <= 0) throw Error("max_tokens " + std::to_string(max_tokens) + " is not a length");
  const fs::path tok_json = folder / "tokenizer.json";
  ModelFiles m;
  if (fs::exists(tok_json)) {
    m = read_tokenizer_json(tok_json);
  } else if (fs::exists(folder / "vocab.json") && fs::exists(folder / "merges.txt")) {
    m = read_vocab_and_merges(folder);
  } else {
    throw Error(folder.string() + ": no tokenizer.json, nor vocab.json with merges.txt (a RoBERTa tokenizer)");
  }
  FolderConfig config = read_folder_config(folder);
  // transformers' RobertaTokenizerFast imposes its own add_prefix_space (default false) and trim_offsets (default
  // true) on tokenizer.json's whenever it loads a folder, and a folder with tokenizer_config.json is one it loads.
  if (config.has_tokenizer_config) {
    m.options.add_prefix_space = config.add_prefix_space.value_or(false);
    m.options.trim_offsets = config.trim_offsets.value_or(true);
  }
  m.options.clean_up_tokenization_spaces = config.clean_up.value_or(true);
  m.options.model_max_length = max_tokens;
  if (config.model_max_length && *config.model_max_length > 0 && *config.model_max_length < max_tokens)
    m.options.model_max_length = static_cast<int>(*config.model_max_length);  // 1e30 means "no limit": ignored
  if (m.cls) config.roles.cls = m.cls->first;
  if (m.sep) config.roles.sep = m.sep->first;

  // The vocabulary as the model has it (the added tokens come on top of it in the constructor).
  std::unordered_map<std::string, std::int32_t> ids;
  for (size_t i = 0; i < m.vocab.size(); ++i) ids.emplace(m.vocab[i], static_cast<std::int32_t>(i));
  auto known = [&](const std::string& t) {
    return ids.count(t) > 0 || std::any_of(m.added.begin(), m.added.end(), [&](auto& a) { return a.content == t; });
  };
  for (const auto& t : config.added_tokens_decoder)
    if (!known(t.content)) m.added.push_back(t);
  // The role tokens are special added tokens whether or not the file lists them (transformers adds them);
  // RoBERTa's <mask> takes the space before it. One a config file names must exist.
  for (int i = 0; i < 5; ++i) {
    const std::string& name = *role_slot(config.roles, i);
    if (name.empty()) continue;
    if (!known(name)) {
      if (config.named[i])
        throw Error(config.named_in[i] + ": " + kRoleKeys[i] + " " + quote_token(name) + " is not in " + m.source);
      continue;  // a default name the model does not have: no such token
    }
    if (std::any_of(m.added.begin(), m.added.end(), [&](auto& a) { return a.content == name; })) continue;
    AddedToken a;
    a.content = name;
    a.lstrip = i == 4;
    a.normalized = false;
    for (const auto& r : config.role_tokens)
      if (r.content == name) a = r;
    m.added.push_back(a);
  }
  try {
    ByteLevelBpe bpe(std::move(m.vocab), m.merges, std::move(m.added), m.options, config.roles, m.unk_token,
                     m.fuse_unk);
    for (const auto* p : {&m.cls, &m.sep})
      if (*p && bpe.find((*p)->first) != (*p)->second)
        throw Error("the post_processor gives " + quote_token((*p)->first) + " id " + std::to_string((*p)->second) +
                    " but the vocabulary " + std::to_string(bpe.find((*p)->first).value_or(-1)));
    return bpe;
  } catch (const Error& e) {
    throw Error(m.source + ": " + e.what());
  }
}

}  // namespace bertscope
