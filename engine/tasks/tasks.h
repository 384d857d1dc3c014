#pragma once
// The tasks a user runs, with Hugging Face pipeline semantics: fill-mask, question answering, sequence and token
// classification, next-sentence prediction, and attention inspection. Each takes a loaded model and its tokenizer.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/bert_model.h"
#include "text/tokenizer.h"

namespace bertscope {

// ---- fill-mask ----
struct MaskPrediction {
  double score = 0;       // softmax probability over the vocabulary
  std::int32_t token = 0;
  std::string token_str;  // decode([token])
  std::string sequence;   // the text with this mask filled in, decoded without special tokens
};

struct FillMaskResult {
  Encoding encoding;
  std::vector<int> mask_positions;                       // token indices of each [MASK]
  std::vector<std::vector<MaskPrediction>> predictions;  // per mask, best first
};

FillMaskResult fill_mask(BertModel& model, const Tokenizer& tokenizer, std::string_view text, int top_k = 5);
// The same from any masked-LM head: `logits` gives (R, V) vocabulary logits at `rows` (token indices of the batch's
// one sequence), e.g. a BertTrainer's, so a model being trained can be asked too.
using MaskLogitsFn = std::function<std::vector<float>(const TokenBatch& batch, const std::vector<std::int32_t>& rows)>;
FillMaskResult fill_mask(const MaskLogitsFn& logits, const Tokenizer& tokenizer, std::string_view text, int top_k = 5);

// ---- question answering ----
struct QaOptions {
  int top_k = 1;
  int max_answer_len = 15;  // tokens, as Hugging Face's pipeline
  int max_seq_len = 384;    // window length (capped by the model's maximum)
  int doc_stride = 128;     // overlap between windows, in tokens
  // SQuAD evaluation only (predict_answer, run_qa's postprocessing): the spans considered in a window start and end
  // among its n_best highest start and end logits. answer_question weighs every span, as the pipeline does.
  int n_best = 20;
};

struct QaAnswer {
  std::string answer;  // the context's characters from start to end
  double score = 0;    // p(start) * p(end) within its window
  int start = 0;       // code-point offsets into the context
  int end = 0;
  int window = 0;
  int start_token = 0, end_token = 0;  // token indices within the window
};

struct QaWindow {
  Encoding encoding;               // [CLS] question [SEP] context-part [SEP]
  std::vector<float> start_logits; // (T)
  std::vector<float> end_logits;   // (T)
};

struct QaResult {
  std::vector<QaAnswer> answers;  // best first
  std::vector<QaWindow> windows;
  int question_truncated_tokens = 0;
};

QaResult answer_question(BertModel& model, const Tokenizer& tokenizer, std::string_view question,
                         std::string_view context, const QaOptions& options = {});
// The same with any source of start/end logits: logits(batch) gives (B*T, 2) for a padded batch of windows (a
// trainer's, during fine-tuning).
using QaLogitsFn = std::function<std::vector<float>(const TokenBatch&)>;
QaResult answer_question(const QaLogitsFn& logits, const Tokenizer& tokenizer, std::string_view question,
                         std::string_view context, const QaOptions& options = {});

// The windows a question and its context are read in, by answer_question and by QA fine-tuning alike: each is
// [CLS] question [SEP] context-part [SEP] (the model's own layout), max_seq_len tokens at most, neighbours sharing
// doc_stride context tokens. A question longer than half a window is cut (Hugging Face fails instead), and
// question_truncated_tokens says by how much. Throws Error for an empty question or context.
struct QaWindows {
  std::vector<Encoding> windows;
  int question_truncated_tokens = 0;
  int stride = 0;  // the doc_stride used (capped so that every window advances)
  int room = 0;    // context tokens per window
};
QaWindows qa_windows(const Tokenizer& tokenizer, std::string_view question, std::string_view context,
                     int max_seq_len, int doc_stride);

// ---- sequence classification and next-sentence prediction ----
struct LabelScore {
  std::string label;
  double score = 0;
};

struct ClassifyResult {
  Encoding encoding;
  std::vector<LabelScore> scores;  // one per label, in id order
  std::vector<float> logits;
};

ClassifyResult classify(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                        std::optional<std::string_view> text_pair = std::nullopt);

struct NspResult {
  Encoding encoding;
  double is_next = 0;  // probability that the second sentence follows the first
  std::vector<float> logits;
};

NspResult next_sentence(BertModel& model, const Tokenizer& tokenizer, std::string_view first, std::string_view second);

// ---- token classification: a label per token (Hugging Face's token-classification pipeline, aggregation "none") ----
struct TokenLabel {
  int index = 0;              // the token's index in the encoding ([CLS]/<s> is 0)
  std::string word;           // the vocabulary entry ("##ing", "ĠSmith"), as Hugging Face's Python pipeline reports it
  std::string entity;         // id2label of the most likely label
  double score = 0;           // its probability
  int start = 0, end = 0;     // code-point offsets into the text
  std::vector<double> probabilities;  // one per label, in id order
};

struct TokenClassifyResult {
  Encoding encoding;
  std::vector<TokenLabel> tokens;  // every token but the special ones
};

TokenClassifyResult classify_tokens(BertModel& model, const Tokenizer& tokenizer, std::string_view text);

// ---- named entities: Hugging Face's TokenClassificationPipeline with an aggregation strategy ----
enum class Aggregation { None, Simple, First, Average, Max };
// "none", "simple", "first", "average", "max" (any case); nullopt for anything else.
std::optional<Aggregation> parse_aggregation(std::string_view name);
std::string aggregation_name(Aggregation a);

struct EntityOptions {
  Aggregation aggregation = Aggregation::None;
  std::vector<std::string> ignore_labels = {"O"};
  // Texts longer than the model takes go in windows sharing this many tokens (capped at half a window), and
  // entities found twice in the shared part are merged as the pipeline does with `stride`.
  int stride = 128;
};

struct Entity {
  std::string label;       // Hugging Face's "entity" ("B-PER") for none, "entity_group" ("PER") for the others
  double score = 0;
  int index = -1;          // none: the token's index in its window's encoding ([CLS] is 0); -1 for groups
  std::string word;        // the tokens back as text (convert_tokens_to_string)
  int start = 0, end = 0;  // code-point offsets into the text
  std::vector<int> tokens; // indices into EntityResult::tokens that the entity covers
};

struct EntityResult {
  std::vector<Entity> entities;
  std::vector<TokenLabel> tokens;  // every token of the text (no special tokens), each from its best-centred window
  int windows = 0;
};

EntityResult recognize_entities(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                                const EntityOptions& options = {});

// The pipeline's steps after the model, for one window: what recognize_entities does with each window's tokens.
struct PreEntity {
  std::string word;                   // the vocabulary entry, or the text itself for an unknown token
  std::vector<double> scores;         // softmax over the labels
  int start = 0, end = 0;
  int index = 0;                      // in the window's encoding
  bool is_subword = false;
  int token = 0;                      // in EntityResult::tokens
};
// Word aggregation (first / average / max), then B-/I- grouping (all but none), as the pipeline's aggregate().
std::vector<Entity> aggregate_entities(const std::vector<PreEntity>& pre, Aggregation aggregation,
                                       const std::map<int, std::string>& id2label, const Tokenizer& tokenizer);
// Of entities whose spans overlap (from neighbouring windows), keep the longest, then the best scored.
std::vector<Entity> merge_overlapping_entities(std::vector<Entity> entities);

// ---- word-level tags (training data for token classification is tagged by word) ----
// Hugging Face's is_split_into_words tokenization: each word tokenized on its own (RoBERTa's with the space before it
// that add_prefix_space gives), every piece carrying its word's index in Token::word, truncated to max_length.
Encoding encode_words(const Tokenizer& tokenizer, const std::vector<std::string>& words, int max_length = 0);
// For each token of an encoding, the index of the word it starts, or -1: special tokens and a word's later pieces
// (the tokens run_ner labels -100).
std::vector<int> first_pieces(const Encoding& encoding);
// run_ner's training labels for one encoding: the first piece of word w gets word_labels[w], every other token -100.
std::vector<std::int32_t> first_piece_labels(const Encoding& encoding, const std::vector<int>& word_labels);
// One tag per word, read from its first piece as run_ner does; "" for a word truncation cut (or that has no piece).
std::vector<std::vector<std::string>> predict_word_tags(BertModel& model, const Tokenizer& tokenizer,
                                                         const std::vector<std::vector<std::string>>& sentences,
                                                         int max_length = 0);
// The same with any source of token logits: logits(batch) gives (B*T, labels.size()) for a padded batch.
using TokenLogitsFn = std::function<std::vector<float>(const TokenBatch&)>;
std::vector<std::vector<std::string>> predict_word_tags(const TokenLogitsFn& logits, const std::vector<std::string>& labels,
                                                         const Tokenizer& tokenizer,
                                                         const std::vector<std::vector<std::string>>& sentences,
                                                         int max_length = 0);

// ---- attention ----
struct AttentionResult {
  Encoding encoding;
  int layers = 0, heads = 0, tokens = 0;
  std::vector<std::vector<float>> maps;  // per layer: (A, T, T), row = query token, column = key token
  const float* map(int layer, int head) const { return maps.at(layer).data() + static_cast<size_t>(head) * tokens * tokens; }
};

AttentionResult attention(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                          std::optional<std::string_view> text_pair = std::nullopt);

// Throws Error ("the model produces NaN ...") when a value is NaN or +inf.
void check_finite(const float* values, size_t n);
// Numerically stable softmax in double precision; check_finite first.
std::vector<double> softmax(const float* logits, size_t n);

// A batch of one encoding, no padding.
TokenBatch single_batch(const Encoding& encoding);

}  // namespace bertscope
