#pragma once
// BertModel: a BERT-family encoder (BERT, DistilBERT, RoBERTa: post-LayerNorm, exact GELU or ReLU) with whichever
// heads the checkpoint holds, its weights resident on one Backend. The tensor names come from the family's
// Architecture; the forward pass is written once against the Backend interface.
//
// Shapes: B sentences, T tokens each (padded), H hidden, A heads, I intermediate, V vocabulary, L labels.
#include <string>
#include <vector>

#include "core/backend.h"
#include "model/checkpoint.h"
#include "model/config.h"

namespace bertscope {

struct LinearWeights {
  Tensor weight;  // (out, in)
  Tensor bias;    // (out)
};

struct LayerNormWeights {
  Tensor gamma;  // (H)
  Tensor beta;   // (H)
};

struct EncoderLayerWeights {
  LinearWeights query, key, value;  // (H, H)
  LinearWeights attention_output;   // (H, H)
  LayerNormWeights attention_norm;
  LinearWeights intermediate;  // (I, H)
  LinearWeights output;        // (H, I)
  LayerNormWeights output_norm;
};

// One batch of tokenized, padded sentences.
struct TokenBatch {
  int batch = 0;                       // B
  int seq_len = 0;                     // T
  std::vector<std::int32_t> ids;       // (B*T)
  std::vector<std::int32_t> type_ids;  // (B*T) all 0 for models without token types
  std::vector<std::int32_t> mask;      // (B*T) 1 for real tokens, 0 for padding
};

// Throws Error when a batch is malformed or holds ids outside the model's tables (the kernels index with them).
void check_token_batch(const TokenBatch& batch, const ModelConfig& config);

struct EncoderOutput {
  Tensor hidden;                      // (B*T, H) last layer
  std::vector<Tensor> attentions;     // per layer (B, A, T, T), when asked for
  // When asked for: the embedding output and the output of every layer but the last (which is `hidden`).
  std::vector<Tensor> hidden_states;  // each (B*T, H)

  // Hugging Face's hidden_states[i]: 0 = embeddings, i = output of layer i (1-based).
  const Tensor& layer_output(size_t i) const { return i < hidden_states.size() ? hidden_states[i] : hidden; }
};

class BertModel {
 public:
  // Reads every tensor the config and the present heads need; throws Error on anything missing or mis-shaped.
  BertModel(const ModelConfig& config, const Checkpoint& checkpoint, Backend& backend);

  const ModelConfig& config() const { return config_; }
  Backend& backend() const { return backend_; }
  bool has_mlm_head() const { return has_mlm_; }
  bool has_nsp_head() const { return has_nsp_; }
  bool has_classifier() const { return num_labels_ > 0; }
  bool has_token_classifier() const { return num_token_labels_ > 0; }
  int num_token_labels() const { return num_token_labels_; }
  bool has_qa_head() const { return has_qa_; }
  bool has_pooler() const { return has_pooler_; }
  int num_labels() const { return num_labels_; }
  bool mlm_decoder_tied() const { return decoder_tied_; }
  std::string head_summary() const;  // e.g. "masked LM + next sentence"

  EncoderOutput encode(const TokenBatch& batch, bool keep_attentions = false, bool keep_hidden_states = false);

  // Vocabulary logits (R, V) on the host, for the hidden rows listed (row = b*T + t): only where needed.
  std::vector<float> mlm_logits(const Tensor& hidden, const std::vector<std::int32_t>& rows);
  // Sequence-classification logits (B, L) from each sentence's first row ([CLS], <s>).
  std::vector<float> classifier_logits(const Tensor& hidden, int batch, int seq_len);
  // Next-sentence logits (B, 2): index 0 = IsNext.
  std::vector<float> nsp_logits(const Tensor& hidden, int batch, int seq_len);
  // Question-answering start and end logits (B*T, 2).
  std::vector<float> qa_logits(const Tensor& hidden);
  // Token-classification logits (B*T, L): one label per token.
  std::vector<float> token_logits(const Tensor& hidden);

  // Downloads a tensor to the host.
  std::vector<float> to_host(const Tensor& t) const;

 private:
  Tensor load(const Checkpoint& ckpt, const std::string& name, const Shape& shape);
  LinearWeights load_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in);
  LayerNormWeights load_norm(const Checkpoint& ckpt, const std::string& prefix);
  // First-token rows through the sequence head's dense layer and activation (BERT: the pooler). (B, H)
  Tensor pooled(const Tensor& hidden, int batch, int seq_len);
  void load_heads(const Checkpoint& ckpt);

  ModelConfig config_;
  Backend& backend_;
  Tensor word_embeddings_;        // (V, H)
  Tensor position_embeddings_;    // (max_positions, H)
  Tensor token_type_embeddings_;  // (type_vocab, H); one row of zeros for families without token types
  LayerNormWeights embedding_norm_;
  std::vector<EncoderLayerWeights> layers_;

  bool has_pooler_ = false, has_mlm_ = false, has_nsp_ = false, has_qa_ = false, decoder_tied_ = false;
  int num_labels_ = 0, num_token_labels_ = 0;
  LinearWeights pooler_;           // (H, H) the sequence head's dense layer (BERT's pooler, shared with NSP)
  LinearWeights mlm_transform_;    // (H, H)
  LayerNormWeights mlm_norm_;
  Tensor mlm_decoder_weight_;      // (V, H), empty when tied to word_embeddings_
  Tensor mlm_decoder_bias_;        // (V)
  LinearWeights nsp_;              // (2, H)
  LinearWeights classifier_;       // (L, H)
  LinearWeights qa_;               // (2, H)
  LinearWeights token_classifier_; // (L, H)
};

}  // namespace bertscope
