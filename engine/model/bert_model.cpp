#include "model/bert_model.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace bertscope {

Tensor BertModel::load(const Checkpoint& ckpt, const std::string& name, const Shape& shape, bool linear_weight) {
  std::vector<float> converted;
  std::shared_ptr<const void> keep_alive;
  auto data = ckpt.read(name, shape, converted, &keep_alive);
  // This model is never trained (BertTrainer keeps its own F32 weights), so the matrices that only feed `linear`
  // may be stored at lower precision (Vulkan's f16 variant). Biases, LayerNorm parameters and the embedding tables
  // (gathered by row, and the tied masked-LM decoder) stay F32.
  if (linear_weight) return backend_.upload_inference_weight(data, shape, std::move(keep_alive));
  if (keep_alive) return backend_.adopt(data, shape, std::move(keep_alive));
  return backend_.upload(data, shape);
}

LinearWeights BertModel::load_linear(const Checkpoint& ckpt, const std::string& prefix, int out, int in) {
  return {load(ckpt, prefix + ".weight", {out, in}, /*linear_weight=*/true), load(ckpt, prefix + ".bias", {out})};
}

LayerNormWeights BertModel::load_norm(const Checkpoint& ckpt, const std::string& prefix) {
  const int H = config_.hidden_size;
  return {load(ckpt, prefix + ".weight", {H}), load(ckpt, prefix + ".bias", {H})};
}

BertModel::BertModel(const ModelConfig& config, const Checkpoint& ckpt, Backend& backend)
    : config_(config), backend_(backend) {
  EncoderRefs weights = lay_out_encoder(config, [&](const EncoderTensorSpec& spec) {
    // throws, naming the tensor, when missing
    encoder_weights_.push_back(load(ckpt, spec.name, spec.shape, spec.kind == ParamKind::Weight));
    return &encoder_weights_.back();
  });
  encoder_ = std::make_unique<Encoder>(config, backend, std::move(weights));
  load_heads(ckpt);
}

namespace {
// The number of labels of a classifier: its weight's rows, checked against config.json's id2label.
int label_count(const Checkpoint& ckpt, const std::string& weight_name, int hidden, const ModelConfig& config) {
  const std::string stored = *ckpt.resolve(weight_name);
  const auto& shape = ckpt.file_of(stored).tensors().at(stored).shape;
  if (shape.size() != 2 || shape[0] < 1 || shape[1] != hidden)
    throw Error(ckpt.file_of(stored).path().string() + ": tensor '" + stored + "' has shape " + shape_to_string(shape) +
                ", expected [num_labels, " + std::to_string(hidden) + "]");
  const int labels = static_cast<int>(shape[0]);
  if (!config.id2label.empty() && static_cast<int>(config.id2label.size()) != labels)
    throw Error("config.json: id2label has " + std::to_string(config.id2label.size()) + " labels but " + stored +
                " has " + std::to_string(labels) + " rows");
  return labels;
}
}  // namespace

void BertModel::load_heads(const Checkpoint& ckpt) {
  const int H = config_.hidden_size, V = config_.vocab_size;
  const Architecture& arch = config_.architecture();
  const TensorNames& n = arch.names;
  // config.json's class names say what a classifier is where the tensor names alone cannot (BERT's and
  // DistilBERT's sequence and token classifiers are both "classifier").
  std::optional<HeadKind> declared;
  for (const auto& c : config_.architectures)
    if (!declared) declared = head_of_class(arch, c);
  const bool token_declared = declared == HeadKind::TokenClassification;

  if (ckpt.has(n.sequence_dense + ".weight") && !token_declared) {
    has_pooler_ = true;
    pooler_ = load_linear(ckpt, n.sequence_dense, H, H);
  }
  if (ckpt.has(n.mlm_transform + ".weight")) {
    has_mlm_ = true;
    mlm_transform_ = load_linear(ckpt, n.mlm_transform, H, H);
    mlm_norm_ = load_norm(ckpt, n.mlm_norm);
    const std::string bias = ckpt.has(n.mlm_bias) || n.mlm_bias_alias.empty() ? n.mlm_bias : n.mlm_bias_alias;
    mlm_decoder_bias_ = load(ckpt, bias, {V});
    decoder_tied_ = !ckpt.has(n.mlm_decoder);  // absent: tied to the word embeddings, as Hugging Face saves it
    if (!decoder_tied_) mlm_decoder_weight_ = load(ckpt, n.mlm_decoder, {V, H});
  }
  if (arch.has_next_sentence_head && ckpt.has(n.next_sentence + ".weight")) {
    has_nsp_ = true;
    nsp_ = load_linear(ckpt, n.next_sentence, 2, H);
  }
  const bool sequence_classifier = ckpt.has(n.sequence_out + ".weight") && !token_declared &&
                                   (has_pooler_ || declared == HeadKind::SequenceClassification);
  if (sequence_classifier) {
    if (!has_pooler_)
      throw Error("config.json declares " + config_.architectures[0] + " but the checkpoint has no " +
                  n.sequence_dense + ".weight");
    num_labels_ = label_count(ckpt, n.sequence_out + ".weight", H, config_);
    classifier_ = load_linear(ckpt, n.sequence_out, num_labels_, H);
  } else if (ckpt.has(n.token_classifier + ".weight") && (n.token_classifier != n.sequence_out || !has_pooler_ || token_declared)) {
    num_token_labels_ = label_count(ckpt, n.token_classifier + ".weight", H, config_);
    token_classifier_ = load_linear(ckpt, n.token_classifier, num_token_labels_, H);
  }
  const int labels = std::max(num_labels_, num_token_labels_);
  for (int i = 0; i < labels; ++i)
    if (!config_.id2label.count(i)) config_.id2label[i] = "LABEL_" + std::to_string(i);
  if (ckpt.has(n.question_answering + ".weight")) {
    has_qa_ = true;
    qa_ = load_linear(ckpt, n.question_answering, 2, H);
  }
  if (has_nsp_ && !has_pooler_)
    throw Error("checkpoint has a next-sentence head but no pooler (" + n.sequence_dense + ".weight)");
}

std::string BertModel::head_summary() const {
  std::vector<std::string> heads;
  if (has_mlm_) heads.push_back("masked LM");
  if (has_nsp_) heads.push_back("next sentence");
  if (num_labels_ > 0) heads.push_back("classification (" + std::to_string(num_labels_) + " labels)");
  if (has_qa_) heads.push_back("question answering");
  if (num_token_labels_ > 0) heads.push_back("token classification (" + std::to_string(num_token_labels_) + " labels)");
  if (heads.empty()) return "encoder only";
  std::string s;
  for (const auto& h : heads) s += (s.empty() ? "" : " + ") + h;
  return s;
}

EncoderOutput BertModel::encode(const TokenBatch& batch, bool keep_attentions, bool keep_hidden_states) {
  EncoderRun run;
  run.keep_attentions = keep_attentions;
  run.keep_hidden_states = keep_hidden_states;
  return encode(batch, std::move(run));
}

EncoderOutput BertModel::encode(const TokenBatch& batch, EncoderRun run) {
  if (!run.head_mask) run.head_mask = &head_mask_;
  return encoder_->forward(batch, run);
}

void BertModel::set_head_mask(HeadMask mask) {
  const int L = config_.num_hidden_layers, A = config_.num_attention_heads;
  if (!mask.empty() && (mask.layers != L || mask.heads != A || mask.keep.size() != static_cast<size_t>(L) * A))
    throw Error("head mask of " + std::to_string(mask.layers) + " layers x " + std::to_string(mask.heads) +
                " heads, but the model has " + std::to_string(L) + " x " + std::to_string(A));
  for (float v : mask.keep)
    if (!std::isfinite(v)) throw Error("head mask value " + std::to_string(v) + " is not a number");
  head_mask_ = std::move(mask);
}

}  // namespace bertscope

namespace bertscope {

std::vector<float> BertModel::to_host(const Tensor& t) const {
  std::vector<float> host(static_cast<size_t>(t.numel()));
  backend_.download(t, host);
  return host;
}

std::vector<float> BertModel::mlm_logits(const Tensor& hidden, const std::vector<std::int32_t>& rows) {
  if (!has_mlm_) throw Error("this model has no masked-LM head (" + config_.architecture().names.mlm_transform + ")");
  if (rows.empty()) return {};
  const std::int64_t R = static_cast<std::int64_t>(rows.size());
  const int H = config_.hidden_size, V = config_.vocab_size;
  for (std::int32_t r : rows)
    if (r < 0 || r >= hidden.dim(0)) throw Error("internal: masked-LM row " + std::to_string(r) + " out of range");
  Tensor index = backend_.upload(std::span<const std::int32_t>(rows), {R});
  Tensor picked = backend_.empty({R, H});  // (R, H)
  backend_.gather_rows(hidden, index, picked);
  Tensor transformed = backend_.empty({R, H});  // (R, H)
  const Activation act = config_.architecture().mlm_uses_encoder_activation ? config_.activation() : Activation::Gelu;
  backend_.linear(picked, mlm_transform_.weight, &mlm_transform_.bias, act, transformed);
  backend_.layer_norm(transformed, nullptr, mlm_norm_.gamma, mlm_norm_.beta, config_.layer_norm_eps, transformed);
  Tensor logits = backend_.empty({R, V});  // (R, V)
  const Tensor& decoder = decoder_tied_ ? *encoder_->weights().word : mlm_decoder_weight_;
  backend_.linear(transformed, decoder, &mlm_decoder_bias_, Activation::None, logits);
  return to_host(logits);
}

Tensor BertModel::pooled(const Tensor& hidden, int batch, int seq_len) {
  std::vector<std::int32_t> cls_rows(batch);
  for (int b = 0; b < batch; ++b) cls_rows[b] = b * seq_len;  // [CLS] / <s> is each sentence's first token
  Tensor index = backend_.upload(std::span<const std::int32_t>(cls_rows), {batch});
  const int H = config_.hidden_size;
  Tensor cls = backend_.empty({batch, H});  // (B, H)
  backend_.gather_rows(hidden, index, cls);
  Tensor pooled = backend_.empty({batch, H});  // (B, H)
  backend_.linear(cls, pooler_.weight, &pooler_.bias, config_.architecture().names.sequence_activation, pooled);
  return pooled;
}

std::vector<float> BertModel::classifier_logits(const Tensor& hidden, int batch, int seq_len) {
  if (num_labels_ == 0) throw Error("this model has no sequence-classification head");
  Tensor p = pooled(hidden, batch, seq_len);
  Tensor logits = backend_.empty({batch, num_labels_});  // (B, L)
  backend_.linear(p, classifier_.weight, &classifier_.bias, Activation::None, logits);
  return to_host(logits);
}

std::vector<float> BertModel::nsp_logits(const Tensor& hidden, int batch, int seq_len) {
  if (!has_nsp_) throw Error("this model has no next-sentence head");
  Tensor p = pooled(hidden, batch, seq_len);
  Tensor logits = backend_.empty({batch, 2});  // (B, 2)
  backend_.linear(p, nsp_.weight, &nsp_.bias, Activation::None, logits);
  return to_host(logits);
}

std::vector<float> BertModel::qa_logits(const Tensor& hidden) {
  if (!has_qa_) throw Error("this model has no question-answering head (qa_outputs)");
  Tensor logits = backend_.empty({hidden.dim(0), 2});  // (B*T, 2): start, end
  backend_.linear(hidden, qa_.weight, &qa_.bias, Activation::None, logits);
  return to_host(logits);
}

std::vector<float> BertModel::token_logits(const Tensor& hidden) {
  if (num_token_labels_ == 0) throw Error("this model has no token-classification head");
  Tensor logits = backend_.empty({hidden.dim(0), num_token_labels_});  // (B*T, L)
  backend_.linear(hidden, token_classifier_.weight, &token_classifier_.bias, Activation::None, logits);
  return to_host(logits);
}

}  // namespace bertscope
