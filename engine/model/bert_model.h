#pragma once
// BertModel: a BERT-family model for inference (BERT, DistilBERT, RoBERTa) with whichever heads the checkpoint holds,
// its weights resident on one Backend. The encoder is the shared Encoder (also what BertTrainer trains); the tensor
// names come from the family's Architecture.
//
// Shapes: B sentences, T tokens each (padded), H hidden, A heads, I intermediate, V vocabulary, L labels.
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/encoder.h"

namespace bertscope {

// A head's weights, owned by the model.
struct LinearWeights {
  Tensor weight;  // (out, in)
  Tensor bias;    // (out)
};

struct LayerNormWeights {
  Tensor gamma;  // (H)
  Tensor beta;   // (H)
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
  // With every option of the encoder (a training-style pass for a backward, a head mask, given embeddings). A null
  // run.head_mask means the model's own (set_head_mask); run.sentence_head_masks, when given, replace both.
  EncoderOutput encode(const TokenBatch& batch, EncoderRun run);

  // Heads switched off in every pass from now on (Hugging Face's head_mask: their attention probabilities times 0),
  // so that every task answers as the model would without them. An empty mask turns them all back on. Throws Error
  // when its size is not (layers, heads) or a value is not finite.
  void set_head_mask(HeadMask mask);
  const HeadMask& head_mask() const { return head_mask_; }

  // For the explain module (explain/): the encoder and the heads' weights, read-only.
  Encoder& encoder() { return *encoder_; }
  const LinearWeights& sequence_dense() const { return pooler_; }
  const LinearWeights& classifier() const { return classifier_; }
  const LinearWeights& qa() const { return qa_; }
  const LinearWeights& token_classifier() const { return token_classifier_; }
  const LinearWeights& mlm_transform() const { return mlm_transform_; }
  const LayerNormWeights& mlm_norm() const { return mlm_norm_; }
  const Tensor& mlm_decoder() const { return decoder_tied_ ? *encoder_->weights().word : mlm_decoder_weight_; }  // (V, H)
  const Tensor& mlm_decoder_bias() const { return mlm_decoder_bias_; }  // (V)

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
  // linear_weight: a matrix only `linear` reads (Backend::upload_inference_weight).
  Tensor load(const Checkpoint& ckpt, const std::string& name, const Shape& shape, bool linear_weight = false);
  LinearWeights load_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in);
  LayerNormWeights load_norm(const Checkpoint& ckpt, const std::string& prefix);
  // First-token rows through the sequence head's dense layer and activation (BERT: the pooler). (B, H)
  Tensor pooled(const Tensor& hidden, int batch, int seq_len);
  void load_heads(const Checkpoint& ckpt);

  ModelConfig config_;
  Backend& backend_;
  std::deque<Tensor> encoder_weights_;  // every encoder tensor (a deque: the Encoder keeps pointers into it)
  std::unique_ptr<Encoder> encoder_;
  HeadMask head_mask_;  // empty: every head on

  bool has_pooler_ = false, has_mlm_ = false, has_nsp_ = false, has_qa_ = false, decoder_tied_ = false;
  int num_labels_ = 0, num_token_labels_ = 0;
  LinearWeights pooler_;           // (H, H) the sequence head's dense layer (BERT's pooler, shared with NSP)
  LinearWeights mlm_transform_;    // (H, H)
  LayerNormWeights mlm_norm_;
  Tensor mlm_decoder_weight_;      // (V, H), empty when tied to the word embeddings
  Tensor mlm_decoder_bias_;        // (V)
  LinearWeights nsp_;              // (2, H)
  LinearWeights classifier_;       // (L, H)
  LinearWeights qa_;               // (2, H)
  LinearWeights token_classifier_; // (L, H)
};

}  // namespace bertscope
