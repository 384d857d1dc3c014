// BertTrainer's heads, forward and backward, over the shared Encoder. Dropout masks are never stored: each dropout
// site has its own seed per step, and the backward pass recomputes the mask.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "train/bert_trainer.h"

namespace bertscope {

std::uint32_t BertTrainer::dropout_seed(int site) const {
  return dropout_hash(options_.seed * 0x9e3779b9U ^ dropout_hash(step_ * 7919U + static_cast<std::uint32_t>(site)));
}

void BertTrainer::backward_linear(const Linear& lin, const Tensor& dy, const Tensor& x, Tensor& dx, bool accumulate) {
  backend_.linear_backward_input(dy, lin.weight->value, accumulate, dx);
  backend_.linear_backward_weight(dy, x, lin.weight->grad, &lin.bias->grad);
}

// The shared encoder; training keeps its activations for the backward pass and applies dropout.
EncoderOutput BertTrainer::encode(const TokenBatch& in, bool training) {
  EncoderRun run;
  run.for_backward = training;
  if (training) {
    run.dropout = options_.dropout;
    run.dropout_seed = [this](int site) { return dropout_seed(site); };
  }
  return encoder_->forward(in, run);
}

void BertTrainer::classification_head(EncoderOutput& f, const std::vector<std::int32_t>* labels, std::vector<float>* logits,
                                      double* loss) {
  const int B = f.batch, H = config_.hidden_size, L = static_cast<int>(options_.labels.size());
  // The head's dropout: config.json's own for it where set (DistilBERT's seq_classif_dropout), else the encoder's.
  const float p = f.run.dropout > 0 ? config_.classifier_dropout.value_or(f.run.dropout) : 0.0f;
  std::vector<std::int32_t> cls_rows(static_cast<size_t>(B));
  for (int b = 0; b < B; ++b) cls_rows[static_cast<size_t>(b)] = b * f.seq_len;  // [CLS] / <s>: each sentence's first token
  Tensor rows = backend_.upload(std::span<const std::int32_t>(cls_rows), {B});
  const Activation act = config_.architecture().names.sequence_activation;  // BERT, RoBERTa: tanh; DistilBERT: ReLU
  const bool dropout_first = config_.architecture().sequence_dropout_before_dense;
  Tensor cls = backend_.empty({B, H}), pooled_pre = backend_.empty({B, H}), pooled = backend_.empty({B, H});
  backend_.gather_rows(f.hidden, rows, cls);
  const int pooled_site = encoder_->dropout_sites();
  Tensor cls_in = backend_.empty({B, H});  // (B, H) the dense layer's input
  if (p > 0 && dropout_first) backend_.dropout(cls, p, dropout_seed(pooled_site + 1), cls_in);
  const Tensor& dense_in = p > 0 && dropout_first ? cls_in : cls;
  backend_.linear(dense_in, pooler_.weight->value, &pooler_.bias->value, Activation::None, pooled_pre);
  backend_.activate(pooled_pre, act, pooled);
  if (p > 0) backend_.dropout(pooled, p, dropout_seed(pooled_site), pooled);
  Tensor z = backend_.empty({B, L});  // (B, L)
  backend_.linear(pooled, classifier_.weight->value, &classifier_.bias->value, Activation::None, z);
  if (!labels) {
    logits->resize(static_cast<size_t>(B) * L);
    backend_.download(z, *logits);
    return;
  }
  for (std::int32_t y : *labels)
    if (y < 0 || y >= L) throw Error("label id " + std::to_string(y) + " is outside 0.." + std::to_string(L - 1));
  Tensor y = backend_.upload(std::span<const std::int32_t>(*labels), {B});
  Tensor losses = backend_.empty({B}), dz = backend_.empty({B, L});
  backend_.cross_entropy(z, y, 1.0f / static_cast<float>(B), losses, dz);
  // Backward through the head.
  Tensor dpooled = backend_.empty({B, H});
  backward_linear(classifier_, dz, pooled, dpooled, false);
  if (p > 0) backend_.dropout(dpooled, p, dropout_seed(pooled_site), dpooled);
  backend_.activation_backward(pooled_pre, dpooled, act, dpooled);
  Tensor dcls = backend_.empty({B, H});
  backward_linear(pooler_, dpooled, dense_in, dcls, false);
  if (p > 0 && dropout_first) backend_.dropout(dcls, p, dropout_seed(pooled_site + 1), dcls);
  Tensor dhidden = backend_.empty(f.hidden.shape());
  backend_.fill(dhidden, 0.0f);
  backend_.scatter_add_rows(dcls, rows, dhidden);
  std::vector<float> host(static_cast<size_t>(B));
  backend_.download(losses, host);
  *loss = std::accumulate(host.begin(), host.end(), 0.0) / B;
  encoder_->backward(f, dhidden, encoder_grads_, options_.frozen_layers);
}

// Hugging Face's *ForTokenClassification dropout: BERT and RoBERTa take config.json's classifier_dropout where it is
// set, else the hidden dropout; DistilBERT always its hidden dropout (seq_classif_dropout is its sequence head's).
float BertTrainer::token_head_dropout(float encoder_dropout) const {
  if (encoder_dropout <= 0) return 0.0f;  // evaluation, or all dropout turned off
  const bool reads_classifier_dropout = config_.architecture().fields.classifier_dropout == "classifier_dropout";
  return reads_classifier_dropout ? config_.classifier_dropout.value_or(encoder_dropout) : encoder_dropout;
}

// logits (N, L) = classifier(dropout(hidden)) at every position; the loss is the mean cross-entropy over the
// positions whose label is not -100, as torch's CrossEntropyLoss in Hugging Face's head.
void BertTrainer::token_head(EncoderOutput& f, const std::vector<std::int32_t>* labels, std::vector<float>* logits,
                             double* loss) {
  const std::int64_t N = f.hidden.shape()[0];
  const int L = static_cast<int>(options_.labels.size());
  const float p = token_head_dropout(f.run.dropout);
  const int site = encoder_->dropout_sites();  // the first seed the encoder does not use
  Tensor dropped;  // (N, H) the classifier's input when dropout applies
  if (p > 0) {
    dropped = backend_.empty(f.hidden.shape());
    backend_.dropout(f.hidden, p, dropout_seed(site), dropped);
  }
  const Tensor& x = p > 0 ? dropped : f.hidden;
  Tensor z = backend_.empty({N, L});  // (N, L)
  backend_.linear(x, classifier_.weight->value, &classifier_.bias->value, Activation::None, z);
  if (!labels) {
    logits->resize(static_cast<size_t>(N) * L);
    backend_.download(z, *logits);
    return;
  }
  std::int64_t counted = 0;
  for (std::int32_t y : *labels) {
    if (y >= L) throw Error("label id " + std::to_string(y) + " is outside 0.." + std::to_string(L - 1));
    counted += y >= 0;
  }
  if (counted == 0) throw Error("token-classification batch has no labelled tokens (every label is -100)");
  Tensor y = backend_.upload(std::span<const std::int32_t>(*labels), {N});
  Tensor losses = backend_.empty({N}), dz = backend_.empty({N, L});
  backend_.cross_entropy(z, y, 1.0f / static_cast<float>(counted), losses, dz);  // rows labelled -100: 0
  Tensor dhidden = backend_.empty(f.hidden.shape());
  backward_linear(classifier_, dz, x, dhidden, false);
  if (p > 0) backend_.dropout(dhidden, p, dropout_seed(site), dhidden);  // the same mask, as its own backward
  std::vector<float> host(static_cast<size_t>(N));
  backend_.download(losses, host);
  *loss = std::accumulate(host.begin(), host.end(), 0.0) / static_cast<double>(counted);
  encoder_->backward(f, dhidden, encoder_grads_, options_.frozen_layers);
}

// Hugging Face's *ForQuestionAnswering: logits (N, 2) = qa_outputs(hidden) at every position (DistilBERT's after
// dropout of qa_dropout; BERT and RoBERTa have none), read as start and end logits (B, T). The loss is its: each
// window's start and end position clamped to [0, T], T ignored, cross-entropy over the T positions (padding
// included, as there), and (mean start loss + mean end loss) / 2.
void BertTrainer::qa_head(EncoderOutput& f, const std::vector<std::int32_t>* positions, std::vector<float>* logits,
                          double* loss) {
  const int B = f.batch, T = f.seq_len;
  const std::int64_t N = f.hidden.shape()[0];
  const float p = f.run.dropout > 0 ? config_.qa_dropout.value_or(0.0f) : 0.0f;
  const int site = encoder_->dropout_sites();  // the first seed the encoder does not use
  Tensor dropped;  // (N, H) qa_outputs' input when dropout applies
  if (p > 0) {
    dropped = backend_.empty(f.hidden.shape());
    backend_.dropout(f.hidden, p, dropout_seed(site), dropped);
  }
  const Tensor& x = p > 0 ? dropped : f.hidden;
  Tensor z = backend_.empty({N, 2});  // (N, 2): [start, end] per position
  backend_.linear(x, qa_outputs_.weight->value, &qa_outputs_.bias->value, Activation::None, z);
  std::vector<float> host(static_cast<size_t>(N) * 2);
  backend_.download(z, host);
  if (!positions) {
    *logits = std::move(host);
    return;
  }
  // The two softmaxes run down the columns of z, which the backend's row-wise cross-entropy cannot read; at two
  // values per token the host does it (in double) for less than a transpose would cost.
  std::vector<float> dz(host.size(), 0.0f);  // (N, 2)
  double total = 0;
  for (int side = 0; side < 2; ++side) {  // 0: start, 1: end
    std::vector<int> target(static_cast<size_t>(B));
    int counted = 0;
    for (int b = 0; b < B; ++b) {
      target[static_cast<size_t>(b)] = std::clamp((*positions)[static_cast<size_t>(2 * b + side)], 0, T);  // T: ignored
      counted += target[static_cast<size_t>(b)] < T;
    }
    if (counted == 0) throw Error("question-answering batch has no answer position inside its windows");
    double side_loss = 0;
    for (int b = 0; b < B; ++b) {
      const int y = target[static_cast<size_t>(b)];
      if (y == T) continue;
      auto at = [&](int t) { return (static_cast<size_t>(b) * T + static_cast<size_t>(t)) * 2 + static_cast<size_t>(side); };
      double top = -INFINITY, sum = 0;
      for (int t = 0; t < T; ++t) top = std::max(top, double(host[at(t)]));
      for (int t = 0; t < T; ++t) sum += std::exp(host[at(t)] - top);
      side_loss += top + std::log(sum) - host[at(y)];
      for (int t = 0; t < T; ++t)
        dz[at(t)] = static_cast<float>((std::exp(host[at(t)] - top) / sum - (t == y)) * 0.5 / counted);
    }
    total += 0.5 * side_loss / counted;
  }
  *loss = total;
  Tensor dz_dev = backend_.upload(std::span<const float>(dz), {N, 2});
  Tensor dhidden = backend_.empty(f.hidden.shape());
  backward_linear(qa_outputs_, dz_dev, x, dhidden, false);
  if (p > 0) backend_.dropout(dhidden, p, dropout_seed(site), dhidden);  // the same mask, as its own backward
  encoder_->backward(f, dhidden, encoder_grads_, options_.frozen_layers);
}

void BertTrainer::mlm_head(EncoderOutput& f, const std::vector<std::int32_t>& picked_rows,
                           const std::vector<std::int32_t>* labels, std::vector<float>* logits, double* loss) {
  const int H = config_.hidden_size, V = config_.vocab_size;
  const std::int64_t R = static_cast<std::int64_t>(picked_rows.size());
  const float eps = config_.layer_norm_eps;
  Tensor rows = backend_.upload(std::span<const std::int32_t>(picked_rows), {R});
  Tensor picked = backend_.empty({R, H}), t_pre = backend_.empty({R, H}), t = backend_.empty({R, H});
  Tensor tn = backend_.empty({R, H});  // (R, H) after the transform's LayerNorm
  backend_.gather_rows(f.hidden, rows, picked);
  backend_.linear(picked, mlm_transform_.weight->value, &mlm_transform_.bias->value, Activation::None, t_pre);
  const Activation act = config_.architecture().mlm_uses_encoder_activation ? config_.activation() : Activation::Gelu;
  backend_.activate(t_pre, act, t);
  backend_.layer_norm(t, nullptr, mlm_norm_.gamma->value, mlm_norm_.beta->value, eps, tn);
  Tensor z = backend_.empty({R, V});  // (R, V), decoder tied to the word embeddings
  backend_.linear(tn, word_->value, &mlm_bias_->value, Activation::None, z);
  if (!labels) {
    logits->resize(static_cast<size_t>(R * V));
    backend_.download(z, *logits);
    return;
  }
  Tensor y = backend_.upload(std::span<const std::int32_t>(*labels), {R});
  Tensor losses = backend_.empty({R}), dz = backend_.empty({R, V});
  backend_.cross_entropy(z, y, 1.0f / static_cast<float>(R), losses, dz);
  Tensor dtn = backend_.empty({R, H}), dt = backend_.empty({R, H}), dpicked = backend_.empty({R, H});
  backend_.linear_backward_input(dz, word_->value, false, dtn);
  backend_.linear_backward_weight(dz, tn, word_->grad, &mlm_bias_->grad);
  backend_.layer_norm_backward(t, dtn, mlm_norm_.gamma->value, eps, dt, mlm_norm_.gamma->grad, mlm_norm_.beta->grad);
  backend_.activation_backward(t_pre, dt, act, dt);
  backward_linear(mlm_transform_, dt, picked, dpicked, false);
  Tensor dhidden = backend_.empty(f.hidden.shape());
  backend_.fill(dhidden, 0.0f);
  backend_.scatter_add_rows(dpicked, rows, dhidden);
  std::vector<float> host(static_cast<size_t>(R));
  backend_.download(losses, host);
  *loss = std::accumulate(host.begin(), host.end(), 0.0) / static_cast<double>(R);
  encoder_->backward(f, dhidden, encoder_grads_, options_.frozen_layers);
}

double BertTrainer::compute_gradients(const TrainBatch& batch) {
  ++step_;
  for (auto& p : params_)
    if (p->trainable) backend_.fill(p->grad, 0.0f);
  EncoderOutput f = encode(batch.tokens, true);
  double loss = 0;
  if (options_.head == TrainHead::SequenceClassification) {
    if (static_cast<int>(batch.labels.size()) != batch.tokens.batch) throw Error("internal: one label per sentence expected");
    classification_head(f, &batch.labels, nullptr, &loss);
  } else if (options_.head == TrainHead::TokenClassification) {
    if (batch.labels.size() != batch.tokens.ids.size()) throw Error("internal: one token-classification label per token expected");
    token_head(f, &batch.labels, nullptr, &loss);
  } else if (options_.head == TrainHead::QuestionAnswering) {
    if (static_cast<int>(batch.labels.size()) != 2 * batch.tokens.batch) throw Error("internal: a start and an end position per window expected");
    qa_head(f, &batch.labels, nullptr, &loss);
  } else {
    if (batch.labels.size() != batch.tokens.ids.size()) throw Error("internal: one masked-LM label per token expected");
    std::vector<std::int32_t> rows, labels;
    for (size_t i = 0; i < batch.labels.size(); ++i)
      if (batch.labels[i] >= 0) {
        rows.push_back(static_cast<std::int32_t>(i));
        labels.push_back(batch.labels[i]);
      }
    if (rows.empty()) throw Error("masked-LM batch has no masked tokens");
    mlm_head(f, rows, &labels, nullptr, &loss);
  }
  return loss;
}

std::vector<float> BertTrainer::classification_logits(const TokenBatch& batch) {
  if (options_.head != TrainHead::SequenceClassification) throw Error("this trainer has no classification head");
  EncoderOutput f = encode(batch, false);
  std::vector<float> logits;
  classification_head(f, nullptr, &logits, nullptr);
  return logits;
}

std::vector<float> BertTrainer::token_logits(const TokenBatch& batch) {
  if (options_.head != TrainHead::TokenClassification) throw Error("this trainer has no token-classification head");
  EncoderOutput f = encode(batch, false);
  std::vector<float> logits;
  token_head(f, nullptr, &logits, nullptr);
  return logits;
}

std::vector<float> BertTrainer::qa_logits(const TokenBatch& batch) {
  if (options_.head != TrainHead::QuestionAnswering) throw Error("this trainer has no question-answering head");
  EncoderOutput f = encode(batch, false);
  std::vector<float> logits;
  qa_head(f, nullptr, &logits, nullptr);
  return logits;
}

std::vector<float> BertTrainer::mlm_logits(const TokenBatch& batch, const std::vector<std::int32_t>& rows) {
  if (options_.head != TrainHead::MaskedLM) throw Error("this trainer has no masked-LM head");
  EncoderOutput f = encode(batch, false);
  std::vector<float> logits;
  mlm_head(f, rows, nullptr, &logits, nullptr);
  return logits;
}

}  // namespace bertscope
