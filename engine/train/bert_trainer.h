#pragma once
// BertTrainer: a BERT-family encoder (BERT, DistilBERT, RoBERTa; names from the family's Architecture) with a
// trainable head (sequence classification, token classification, question answering or masked LM), its parameters,
// gradients and AdamW moments resident on one Backend, and the forward and backward passes written once against the
// Backend interface. It mirrors Hugging Face's *ForSequenceClassification / *ForTokenClassification /
// *ForQuestionAnswering / *ForMaskedLM exactly
// (post-LayerNorm, dropout after the embeddings, the attention probabilities, both sublayer outputs and the heads),
// so what it trains loads and predicts the same in Hugging Face.
//
// Shapes: B sentences, T tokens (padded), N = B*T, H hidden, A heads, I intermediate, V vocabulary, L labels,
// R rows predicted by the masked-LM head.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "model/bert_model.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/encoder.h"
#include "model/pretrained.h"
#include "model/safetensors.h"

namespace bertscope {

struct Param {
  std::string name;    // Hugging Face name, e.g. "bert.encoder.layer.0.attention.self.query.weight"
  Tensor value, grad;  // same shape
  Tensor m, v;         // AdamW moments, allocated on the first step
  bool decay = true;   // weight decay applies (not to biases and LayerNorm weights, as Hugging Face's Trainer)
  bool trainable = true;
};

enum class TrainHead { SequenceClassification, TokenClassification, MaskedLM, QuestionAnswering };

struct TrainerOptions {
  TrainHead head = TrainHead::SequenceClassification;
  std::vector<std::string> labels;  // sequence / token classification: label names in id order (none for the others)
  float dropout = 0.1f;             // hidden and attention dropout while training (BERT's 0.1); 0 turns it off
  int frozen_layers = 0;            // freeze the embeddings and this many of the lowest layers
  std::uint32_t seed = 0;           // initialisation of new head weights, and the dropout masks
};

struct TrainBatch {
  TokenBatch tokens;
  // Classification: (B) label ids. Token classification: (N) a label id per token, -100 where no loss applies
  // (special tokens, padding, a word's later pieces). Question answering: (2B) each window's answer start and end
  // token, [s0, e0, s1, e1, ...] (clamped to [0, T]; T means no loss, as Hugging Face's ignored index). Masked LM: (N)
  // the original token id where the loss applies, -100 elsewhere.
  std::vector<std::int32_t> labels;
};

class BertTrainer {
 public:
  // Loads a Hugging Face folder. Head weights the checkpoint lacks (a pooler and classifier on a masked-LM
  // checkpoint) are initialised as Hugging Face does: N(0, 0.02), zero biases.
  BertTrainer(const Pretrained& model, Backend& backend, const TrainerOptions& options);
  BertTrainer(const std::filesystem::path& folder, Backend& backend, const TrainerOptions& options)
      : BertTrainer(open_pretrained(folder), backend, options) {}
  ~BertTrainer();

  // Forward and backward with dropout: every trainable parameter's grad = d(mean loss)/d(param). Returns the loss.
  double compute_gradients(const TrainBatch& batch);
  // Throws Error when `loss` (of the given 1-based step) is NaN or infinite, naming the first parameter whose
  // weights or gradients are not finite: training stops there rather than save a broken model.
  void check_loss(double loss, int step) const;
  // Evaluation forward (no dropout). Classification: (B, L) logits. Token classification: (B*T, L) logits, every
  // position. Question answering: (B*T, 2) start and end logits. Masked LM: (R, V) logits at `rows`.
  std::vector<float> classification_logits(const TokenBatch& batch);
  std::vector<float> token_logits(const TokenBatch& batch);
  std::vector<float> qa_logits(const TokenBatch& batch);
  std::vector<float> mlm_logits(const TokenBatch& batch, const std::vector<std::int32_t>& rows);

  // Writes a Hugging Face folder (config.json with id2label/label2id, model.safetensors, the tokenizer files of
  // the source folder) atomically: into a temporary folder moved to `out` only when complete. `out` must be absent
  // or empty (StagedFolder, core/safe_files.h), except for a pre-training run's own checkpoint, whose caller passes
  // `replaceable` (is_checkpoint_file_name). `extra` may add files to the folder before it is moved in (a
  // pre-training checkpoint's optimizer state).
  void save(const std::filesystem::path& out, StDType dtype = StDType::F32,
            const std::function<void(const std::filesystem::path&)>& extra = {},
            bool (*replaceable)(const std::string&) = nullptr) const;

  // The dropout masks of step s depend on (seed, s): setting the step when resuming gives the masks an
  // uninterrupted run would have used.
  std::uint32_t step() const { return step_; }
  void set_step(std::uint32_t step) { step_ = step; }

  const ModelConfig& config() const { return config_; }
  const TrainerOptions& options() const { return options_; }
  Backend& backend() const { return backend_; }
  std::vector<std::unique_ptr<Param>>& params() { return params_; }
  const Param& param(const std::string& name) const;
  std::int64_t trainable_parameter_count() const;
  // True when the task head starts from new weights (N(0, 0.02)); false when the checkpoint's own head is kept (a
  // classifier with the same labels, a question-answering head). The fitted defaults (training_defaults.h) ask.
  bool head_is_new() const { return head_is_new_; }
  // Host copies of every parameter's values, in params() order; and putting such copies back (on the backend, in
  // place). The training loop keeps the best epoch's weights with these.
  std::vector<std::vector<float>> parameter_values() const;
  void set_parameter_values(const std::vector<std::vector<float>>& values);

 private:
  struct Linear { Param* weight; Param* bias; };
  struct Norm { Param* gamma; Param* beta; };

  // Where a parameter's first value comes from. Init: Hugging Face's N(0, 0.02) for matrices, zeros for biases.
  enum class Source { Checkpoint, CheckpointOrInit, Init };
  bool decoder_is_tied(const Checkpoint& ckpt, const std::string& word, const std::string& decoder);
  Param* add_param(const Checkpoint& ckpt, const std::string& name, const Shape& shape, bool decay, Source source);
  Param& find_param(const std::string& name);
  Linear add_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in, Source source = Source::Checkpoint);
  Norm add_norm(const Checkpoint& ckpt, const std::string& prefix);

  EncoderOutput encode(const TokenBatch& batch, bool training);
  // For y = x W^T + b: dx = dy W (or dx += that), and W's and b's grads += their share.
  void backward_linear(const Linear& lin, const Tensor& dy, const Tensor& x, Tensor& dx, bool accumulate);
  void classification_head(EncoderOutput& f, const std::vector<std::int32_t>* labels, std::vector<float>* logits, double* loss);
  void token_head(EncoderOutput& f, const std::vector<std::int32_t>* labels, std::vector<float>* logits, double* loss);
  float token_head_dropout(float encoder_dropout) const;
  void qa_head(EncoderOutput& f, const std::vector<std::int32_t>* positions, std::vector<float>* logits, double* loss);
  void mlm_head(EncoderOutput& f, const std::vector<std::int32_t>& rows, const std::vector<std::int32_t>* labels,
                std::vector<float>* logits, double* loss);
  std::uint32_t dropout_seed(int site) const;
  bool labelled_head() const {  // a head with id2label: sequence or token classification
    return options_.head == TrainHead::SequenceClassification || options_.head == TrainHead::TokenClassification;
  }

  std::filesystem::path source_;
  ModelConfig config_;
  Backend& backend_;
  TrainerOptions options_;
  std::vector<std::unique_ptr<Param>> params_;
  std::unique_ptr<Encoder> encoder_;  // runs on the parameters' values
  EncoderRefs encoder_grads_;         // the same layout over their gradients
  Param* word_ = nullptr;             // (V, H) the word embeddings, also the masked-LM decoder
  Linear pooler_{}, classifier_{}, mlm_transform_{};  // classifier_: the sequence or the token classifier
  Linear qa_outputs_{};                                // (2, H) start and end logits
  Norm mlm_norm_{};
  Param* mlm_bias_ = nullptr;
  std::uint32_t step_ = 0;  // counts compute_gradients calls: fresh dropout masks each step
  bool head_is_new_ = true;
};

}  // namespace bertscope
