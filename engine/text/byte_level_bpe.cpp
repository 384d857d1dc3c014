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
#include "text/byte_level.h"
#include "text/unicode.h"

namespace fs = std::filesystem;

namespace bertscope {

using namespace byte_level;

namespace {

std::uint64_t pair_key(std::int32_t a, std::int32_t b) {
  return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
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
// Construction. (Reading a folder is in byte_level_bpe_load.cpp.)

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

std::string ByteLevelBpe::tokens_to_string(const std::vector<std::string>& tokens) const {
  std::string joined;
  for (const std::string& t : tokens) joined += t;
  return lossy_utf8(from_byte_level(joined));
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

}  // namespace bertscope
