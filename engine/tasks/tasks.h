#pragma once
// The tasks a user runs, with Hugging Face pipeline semantics: fill-mask, question answering, sequence and token
// classification, next-sentence prediction, and attention inspection. Each takes a loaded model and its tokenizer.
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

// ---- question answering ----
struct QaOptions {
  int top_k = 1;
  int max_answer_len = 15;  // tokens, as Hugging Face's pipeline
  int max_seq_len = 384;    // window length (capped by the model's maximum)
  int doc_stride = 128;     // overlap between windows, in tokens
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
