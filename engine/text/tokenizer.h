#pragma once
// Tokenizer: what every model family's tokenizer offers the tasks and views (tokens with offsets, the post-processor's
// special-token layout, ids of the role tokens, word boundaries). Two implement it: WordPieceTokenizer (below;
// BERT, DistilBERT) and ByteLevelBpe (byte_level_bpe.h; RoBERTa).
//
// WordPieceTokenizer is BertTokenizer, exactly as Hugging Face's: BasicTokenizer (clean text, spaces around CJK ideographs, optional
// lower-casing and accent stripping, whitespace and punctuation splitting) then greedy longest-match WordPiece with
// "##" continuations. Special tokens typed in the text ("[MASK]") are kept whole. Every token carries its offsets
// into the original text, in Unicode code points (Python string indices, as Hugging Face reports them).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace bertscope {

struct Token {
  std::string text;        // vocabulary entry, e.g. "play", "##ing", "[CLS]"
  std::int32_t id = 0;
  std::int32_t type_id = 0;  // 0 first sentence, 1 second
  std::int32_t start = 0;    // code-point offsets into the sentence it came from; 0, 0 for added [CLS]/[SEP]
  std::int32_t end = 0;
  std::int32_t word = -1;     // index of the word it belongs to in its sentence (-1 for added special tokens)
  std::int32_t sequence = -1; // 0 or 1 for tokens of the first/second sentence, -1 for added special tokens
  bool special = false;       // [CLS], [SEP], [MASK], ... (added or typed)
  bool unknown = false;       // [UNK] produced for a word missing from the vocabulary
};

struct Encoding {
  std::vector<Token> tokens;
  int truncated_tokens = 0;  // how many tokens truncation removed (0: none)
  // encode read a single text only as far as it needed (more than twice max_length tokens in it): truncated_tokens
  // then counts the tokens it read past the limit, a lower bound, and more were cut.
  bool truncated_at_least = false;

  std::vector<std::int32_t> ids() const;
  std::vector<std::int32_t> type_ids() const;
  size_t size() const { return tokens.size(); }
  // How many tokens truncation removed, as a message should say it: "127", or "at least 127" when encode stopped
  // reading the text (truncated_at_least).
  std::string truncated_count() const;
};

// One batch of encodings padded to the same length: what the encoder takes.
struct TokenBatch {
  int batch = 0;                       // B
  int seq_len = 0;                     // T
  std::vector<std::int32_t> ids;       // (B*T)
  std::vector<std::int32_t> type_ids;  // (B*T) all 0 for models without token types
  std::vector<std::int32_t> mask;      // (B*T) 1 for real tokens, 0 for padding
};

struct TokenizerOptions {
  bool lowercase = true;
  bool strip_accents = true;  // Hugging Face: defaults to the value of lowercase
  int max_input_chars_per_word = 100;
  int model_max_length = 512;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // The sentence's tokens without the special tokens the post-processor adds.
  virtual std::vector<Token> tokenize(std::string_view text, int sequence = 0) const = 0;
  // The first `limit` tokens of tokenize(text, sequence). A tokenizer may stop reading once it has them (WordPiece
  // does, so a huge text costs what its first tokens cost); `more` is then set: the text may hold more tokens. The
  // default reads it all.
  virtual std::vector<Token> tokenize_prefix(std::string_view text, int sequence, size_t limit, bool* more) const {
    if (more) *more = false;
    return tokenize(text, sequence);
  }
  // The model's input layout ([CLS] A [SEP] B [SEP]; <s> A </s></s> B </s>), truncated longest first to max_length
  // (0: the model's maximum).
  // Every family does the same: tokenize, truncate, then the post-processor.
  Encoding encode(std::string_view text, std::optional<std::string_view> text_pair = std::nullopt,
                  int max_length = 0) const;
  // Encodings padded with the pad token to the longest of them, with the attention mask (Hugging Face's
  // padding=True, on the right).
  TokenBatch pad_batch(const std::vector<const Encoding*>& encodings) const;
  // The post-processor alone: the special tokens around one sentence's tokens (or a pair's), with type ids.
  virtual Encoding with_special_tokens(std::vector<Token> first, const std::vector<Token>* second = nullptr) const = 0;
  // How many tokens with_special_tokens adds (Hugging Face's num_special_tokens_to_add): BERT 2 / 3, RoBERTa 2 / 4.
  virtual int special_tokens_added(bool pair) const = 0;
  // Hugging Face's decode of these ids.
  virtual std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true) const = 0;
  // Hugging Face's convert_tokens_to_string (the fast tokenizer's decoder): vocabulary entries back to text.
  virtual std::string tokens_to_string(const std::vector<std::string>& tokens) const = 0;
  // Whether the vocabulary marks word continuations ("##"): then a token is a subword exactly when its entry is
  // longer than the text it covers (the token-classification pipeline's test). Byte-level BPE has no such mark.
  virtual bool marks_continuations() const = 0;
  // Whether tokens[index] continues the word of the token before it ("##ing", or BPE's "ing" after "Ġplay").
  virtual bool continues_word(const Encoding& encoding, size_t index) const = 0;
  // A vocabulary entry as stored ("##ing", "Ġworld") and as a reader would see it ("##ing", " world").
  virtual const std::string& token(std::int32_t id) const = 0;
  virtual std::string readable(std::int32_t id) const { return token(id); }
  virtual std::optional<std::int32_t> find(std::string_view token) const = 0;
  virtual size_t vocab_size() const = 0;
  virtual int model_max_length() const = 0;  // the most tokens one encoding may hold, special tokens included
  virtual std::int32_t cls_id() const = 0;   // [CLS] / <s>
  virtual std::int32_t sep_id() const = 0;   // [SEP] / </s>
  virtual std::int32_t mask_id() const = 0;  // -1 when there is none
  virtual std::int32_t pad_id() const = 0;
  virtual std::int32_t unk_id() const = 0;
  virtual bool is_special(std::int32_t id) const = 0;
  // "[MASK]" or "<mask>": what a user types for a word to predict ("" when there is none).
  std::string mask_token() const { return mask_id() >= 0 ? token(mask_id()) : std::string(); }
};

// Hugging Face's "longest_first" truncation of a sentence (b null) or a pair to `budget` tokens in all, as the
// tokenizers library does it: the shorter sequence keeps its length when the longer can give up enough; otherwise
// both get half, the odd token going to the longer one (to the second on a tie). Returns how many were removed.
int truncate_longest_first(std::vector<Token>& a, std::vector<Token>* b, size_t budget);

class WordPieceTokenizer : public Tokenizer {
 public:
  WordPieceTokenizer(std::vector<std::string> vocab, TokenizerOptions options);

  // Reads vocab.txt (or tokenizer.json's WordPiece vocabulary) and tokenizer_config.json from a model folder.
  // `max_tokens`: how many tokens the model takes (ModelConfig::max_tokens()).
  static WordPieceTokenizer load(const std::filesystem::path& folder, int max_tokens);

  // BERT's basic tokenization alone (clean, lower-case and strip accents as configured, split on whitespace,
  // punctuation and CJK ideographs): the words WordPiece then splits, and what a vocabulary is trained on.
  std::vector<std::string> basic_words(std::string_view text) const;

  // The sentence's WordPiece tokens without [CLS]/[SEP].
  std::vector<Token> tokenize(std::string_view text, int sequence = 0) const override;
  std::vector<Token> tokenize_prefix(std::string_view text, int sequence, size_t limit, bool* more) const override;

  // [CLS] first [SEP] (second [SEP]), type ids 0 then 1.
  Encoding with_special_tokens(std::vector<Token> first, const std::vector<Token>* second = nullptr) const override;
  int special_tokens_added(bool pair) const override { return pair ? 3 : 2; }
  // Hugging Face's decode: joins tokens, merges "##" pieces, tidies spaces before punctuation.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true) const override;
  bool continues_word(const Encoding& encoding, size_t index) const override;
  // The WordPiece decoder: "##" pieces joined, other tokens after a space, each token's clean-up as tokenizers does.
  std::string tokens_to_string(const std::vector<std::string>& tokens) const override;
  bool marks_continuations() const override { return true; }

  std::optional<std::int32_t> find(std::string_view token) const override;
  const std::string& token(std::int32_t id) const override { return vocab_.at(static_cast<size_t>(id)); }
  size_t vocab_size() const override { return vocab_.size(); }
  int model_max_length() const override { return options_.model_max_length; }
  const TokenizerOptions& options() const { return options_; }
  std::int32_t cls_id() const override { return cls_id_; }
  std::int32_t sep_id() const override { return sep_id_; }
  std::int32_t mask_id() const override { return mask_id_; }
  std::int32_t pad_id() const override { return pad_id_; }
  std::int32_t unk_id() const override { return unk_id_; }
  bool is_special(std::int32_t id) const override;

 private:
  struct Char {  // a normalised character and the original code point it came from
    char32_t c;
    std::int32_t origin;
  };
  // Appends the words of `text`, stopping once `words` holds `max_words` (then returns true: text is left unread).
  bool split_words(std::u32string_view text, std::int32_t offset, std::vector<std::vector<Char>>& words,
                   size_t max_words = SIZE_MAX) const;
  void wordpiece(const std::vector<Char>& word, int word_index, int sequence, std::vector<Token>& out) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, std::int32_t> ids_;
  size_t longest_piece_ = 0;  // characters in the longest vocabulary entry ("##" not counted): no longer piece can match
  // Hugging Face's added tokens: matched whole in the text before it is split into words, and never split. The
  // special ones ([CLS], [MASK], additional_special_tokens) match as typed; the others match after lower-casing when
  // the tokenizer lower-cases (the slow BertTokenizer lower-cases the text around special tokens only). A token not
  // in the vocabulary is appended to it, as add_tokens does.
  // `normalized` false (tokenizer.json's flag): matched as typed even when not special.
  void add_token(const std::string& token, bool special, bool normalized = true);
  // added_tokens.json ({"token": id}) and special_tokens_map.json's names, as from_pretrained applies them.
  void add_tokens_from_files(const std::filesystem::path& folder, bool has_tokenizer_json);

  struct AddedPiece {
    std::u32string text;  // lower-cased already when fold_case
    std::int32_t id;
    bool special;
    bool fold_case;  // matched against the lower-cased text
  };
  std::vector<AddedPiece> added_;  // longest first
  std::unordered_set<std::int32_t> special_ids_;
  TokenizerOptions options_;
  std::int32_t cls_id_ = -1, sep_id_ = -1, mask_id_ = -1, pad_id_ = -1, unk_id_ = -1;
};

}  // namespace bertscope
