#pragma once
// RoBERTa's tokenizer (GPT-2's byte-level BPE), exactly as Hugging Face's fast tokenizer (the `tokenizers` library
// behind AutoTokenizer) runs it:
//   1. added tokens typed in the text ("<mask>", "<s>") are cut out first, whole, leftmost-longest; one with lstrip
//      (RoBERTa's <mask>) takes the whitespace before it, one with rstrip the whitespace after it;
//   2. the rest is split by GPT-2's pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//      (matched by hand over code points: \s is Unicode White_Space, \p{L} / \p{N} the L* / N* categories), after a
//      space is put in front of each piece when add_prefix_space is set;
//   3. each split's UTF-8 bytes become GPT-2's printable byte characters (the space is "Ġ") and BPE merges them by
//      rank;
//   4. RobertaProcessing: <s> A </s> or <s> A </s></s> B </s>, token type ids all 0, offsets trimmed of the spaces a
//      token carries ("Ġworld" covers "world", not " world").
// Offsets are Unicode code points into the sentence (Python string indices, as Hugging Face reports them); a token
// holding part of a character's bytes (an emoji split in two) covers the whole character. Invalid UTF-8 in the input
// is read as U+FFFD, one per bad byte (Hugging Face cannot take such text at all).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/tokenizer.h"

namespace bertscope {

struct ByteLevelBpeOptions {
  bool add_prefix_space = false;  // RoBERTa: false, so "Hello" at the start is not "ĠHello"
  bool trim_offsets = true;       // RobertaProcessing's: offsets leave out a token's leading/trailing spaces
  bool use_regex = true;          // false: each piece between added tokens is one word (no GPT-2 split)
  bool ignore_merges = false;     // a word that is itself in the vocabulary is taken whole, before any merge
  bool clean_up_tokenization_spaces = true;  // decode(): " ." -> "." etc. (transformers 4.x's default for RoBERTa)
  int model_max_length = 512;
};

// A token matched whole in the raw text before BPE (Hugging Face's AddedToken).
struct AddedToken {
  std::string content;  // UTF-8, as typed, e.g. "<mask>"
  std::int32_t id = -1;
  bool special = true;       // skipped by decode(skip_special_tokens); is_special(id)
  bool lstrip = false;       // takes the whitespace before it
  bool rstrip = false;       // takes the whitespace after it
  bool single_word = false;  // only where no word character touches it
  bool normalized = false;   // matched in a second pass, in the pieces the other added tokens left
};

// Which entries play which part; an empty name: the model has none (only cls and sep are required).
struct ByteLevelBpeRoles {
  std::string cls = "<s>", sep = "</s>", pad = "<pad>", unk = "<unk>", mask = "<mask>";
};

class ByteLevelBpe : public Tokenizer {
 public:
  using Merge = std::pair<std::string, std::string>;  // two byte-level vocabulary entries, e.g. {"Ġ", "t"}

  // `vocab[id]` is the byte-level entry of id (an empty string: no such id). `merges` in rank order (first merged
  // first); each part and their concatenation must be in the vocabulary. Added tokens not in `vocab` take their
  // id (vocab is extended). Role tokens named in `roles` must be in the vocabulary (cls and sep always).
  // Throws Error saying what is wrong.
  ByteLevelBpe(std::vector<std::string> vocab, const std::vector<Merge>& merges, std::vector<AddedToken> added,
               ByteLevelBpeOptions options, ByteLevelBpeRoles roles = {}, std::optional<std::string> unk_token = {},
               bool fuse_unk = false);

  // Reads a model folder: tokenizer.json (model "BPE", pre_tokenizer ByteLevel, post_processor RobertaProcessing,
  // added_tokens) when present, else vocab.json + merges.txt; tokenizer_config.json and special_tokens_map.json name
  // the role tokens and give add_prefix_space, trim_offsets, clean_up_tokenization_spaces and model_max_length.
  // `max_tokens` is how many tokens the model takes, special ones included: for RoBERTa NOT config.json's
  // max_position_embeddings (514) but that minus padding_idx + 1 (positions start after the padding index), i.e.
  // ModelConfig::max_tokens() = 512. The usable maximum is the smaller of it and tokenizer_config's model_max_length
  // (as Tokenizer::load decides it), so passing 514 by mistake still gives 512 when tokenizer_config.json says so.
  // Throws Error naming the file at fault.
  static ByteLevelBpe load(const std::filesystem::path& folder, int max_tokens);

  // The sentence's tokens without <s>/</s>: added tokens typed in the text, then BPE pieces of each word.
  std::vector<Token> tokenize(std::string_view text, int sequence = 0) const override;

  // <s> first </s> (</s> second </s>). Type ids are all 0, as RoBERTa's.
  Encoding with_special_tokens(std::vector<Token> first, const std::vector<Token>* second = nullptr) const override;
  int special_tokens_added(bool pair) const override { return pair ? 4 : 2; }
  // The byte-level decoder: the tokens' bytes together, decoded as UTF-8 (invalid bytes become U+FFFD).
  std::string tokens_to_string(const std::vector<std::string>& tokens) const override;
  bool marks_continuations() const override { return false; }
  // Hugging Face's decode: byte-level decoding of the tokens' bytes together (a character split over two tokens comes
  // back whole; bytes that are not UTF-8 become U+FFFD), then clean_up_tokenization_spaces when the folder asks for
  // it. Unknown ids are skipped. Hugging Face's own default is skip_special_tokens=false; this one mirrors Tokenizer.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true) const override;

  // A token as text for display: its bytes decoded ("Ġworld" -> " world"; part of a character -> U+FFFD).
  std::string readable(std::int32_t id) const override;

  // Whether tokens[index] continues the word of tokens[index - 1]: both are pieces of the same sentence (neither
  // special), with no whitespace between them ("Hello" "," or "Ġplay" "ing", not "Hello" "Ġworld"). For drawing word
  // boundaries; Hugging Face's own word index (Token::word) counts GPT-2's splits, so "," is a word of its own there.
  bool continues_word(const Encoding& encoding, size_t index) const override;

  std::optional<std::int32_t> find(std::string_view token) const override;  // a byte-level entry ("Ġworld") or added token
  const std::string& token(std::int32_t id) const override { return vocab_.at(static_cast<size_t>(id)); }
  size_t vocab_size() const override { return vocab_.size(); }
  int model_max_length() const override { return options_.model_max_length; }  // ids 0 .. vocab_size()-1, added tokens included
  const ByteLevelBpeOptions& options() const { return options_; }
  const std::vector<AddedToken>& added_tokens() const { return added_; }
  std::int32_t cls_id() const override { return cls_id_; }    // <s>
  std::int32_t sep_id() const override { return sep_id_; }    // </s>
  std::int32_t pad_id() const override { return pad_id_; }    // -1 when the model has none
  std::int32_t unk_id() const override { return unk_id_; }    // -1 when the model has none
  std::int32_t mask_id() const override { return mask_id_; }  // -1 when the model has none
  bool is_special(std::int32_t id) const override;

  // GPT-2's reversible byte <-> character map: UTF-8 text to its byte-level form ("a b" -> "aĠb") and back (a
  // character outside the map is kept as its own UTF-8 bytes, as Hugging Face's decoder does).
  static std::string to_byte_level(std::string_view bytes);
  static std::string from_byte_level(std::string_view byte_level);

  // Long input: Hugging Face caps no word, and neither does this: merging is a heap over the word's bytes,
  // O(n log n) as Hugging Face's, and everything else is linear. Measured on GPT-2's vocabulary, 2 busy cores: a
  // 100,000-character word takes 40-50 ms (-O2; 0.4 s in a Debug build), 5,000 words 4 ms (about 1 us a token).

 private:
  struct Piece {  // one BPE token of a word: its id and the bytes of the word it covers
    std::int32_t id;
    std::uint32_t begin, end;
  };
  struct Segment {  // a stretch of the sentence, in code points: an added token (index into added_) or text
    size_t begin, end;
    int added = -1;
  };
  struct Cache;

  void build_tables(const std::vector<Merge>& merges);
  void resolve_roles(const ByteLevelBpeRoles& roles);
  std::vector<Segment> split_added(std::u32string_view text) const;
  void split_pass(std::u32string_view text, size_t begin, size_t end, bool normalized,
                  std::vector<Segment>& out) const;
  int find_added(std::u32string_view text, size_t from, size_t end, bool normalized, size_t& at) const;
  std::vector<Piece> bpe(const std::string& word) const;
  std::vector<Piece> merge_word(const std::string& word) const;
  void tokenize_text(std::u32string_view text, size_t begin, size_t end, int sequence, int& word,
                     std::vector<Token>& out) const;
  static std::pair<std::int32_t, std::int32_t> edge_spaces(std::u32string_view value);
  void trim(Token& token, std::pair<std::int32_t, std::int32_t> spaces, bool first_of_sentence) const;

  std::vector<std::string> vocab_;                      // id -> byte-level entry
  std::unordered_map<std::string, std::int32_t> ids_;  // byte-level entry (or added token content) -> id
  std::unordered_map<std::uint64_t, std::pair<std::int32_t, std::int32_t>> merges_;  // (left, right) -> (rank, id)
  std::int32_t byte_ids_[256];  // id of each byte's single-character entry, -1 when missing
  std::vector<AddedToken> added_;
  std::vector<std::u32string> added_text_;  // added_[i].content decoded
  std::unordered_map<char32_t, std::vector<int>> added_by_first_;  // first code point -> added tokens, longest first
  std::vector<bool> special_;                                      // by id
  std::vector<std::pair<std::int32_t, std::int32_t>> edge_spaces_;  // by id: leading, trailing spaces of the entry
  std::optional<std::int32_t> unk_token_id_;  // the BPE model's unk_token (RoBERTa: none: unknown bytes are dropped)
  bool fuse_unk_ = false;
  ByteLevelBpeOptions options_;
  std::int32_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1, mask_id_ = -1;
  std::shared_ptr<Cache> cache_;  // words already merged; shared by copies (same vocabulary, same answers)
};

}  // namespace bertscope
