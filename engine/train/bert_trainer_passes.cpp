// BertTrainer's forward and backward passes. The forward pass keeps what the backward pass needs; dropout masks
// are never stored: each dropout site has its own seed per step and the backward pass recomputes the mask.
#include <numeric>

#include "core/error.h"
#include "train/bert_trainer.h"

namespace bertscope {

// Activations of one encoder layer (all (N, H) unless noted).
struct LayerActivations {
  Tensor input;                // the layer's input
  Tensor q, k, v;
  Tensor probs;                // (B, A, T, T) attention probabilities
  Tensor probs_dropped;        // after attention dropout (empty when dropout is off: probs is used)
  Tensor context;
  Tensor sum1;                 // dropout(attention output) + input: the first LayerNorm's input
  Tensor x1;                   // after the first LayerNorm
  Tensor inner_pre, inner;     // (N, I) before and after GELU
  Tensor sum2;                 // dropout(output dense) + x1: the second LayerNorm's input
};

struct BertTrainer::Forward {
  int B = 0, T = 0;
  bool training = false;
  Tensor ids, position_ids, type_ids, mask;  // (N), (N), (N), (B, T)
  Tensor embedding_sum;        // (N, H) word + position + type, the embedding LayerNorm's input
  std::vector<LayerActivations> layers;
  Tensor hidden;               // (N, H) the last layer's output
};

namespace {
// Dropout sites within one step: 0 embeddings, then 3 per layer, then the pooled output.
constexpr int kSitesPerLayer = 3;
}  // namespace

std::uint32_t BertTrainer::dropout_seed(int site) const {
  return dropout_hash(options_.seed * 0x9e3779b9U ^ dropout_hash(step_ * 7919U + static_cast<std::uint32_t>(site)));
}

void BertTrainer::backward_linear(const Linear& lin, const Tensor& dy, const Tensor& x, Tensor& dx, bool accumulate) {
  backend_.linear_backward_input(dy, lin.weight->value, accumulate, dx);
  backend_.linear_backward_weight(dy, x, lin.weight->grad, &lin.bias->grad);
}

std::unique_ptr<BertTrainer::Forward> BertTrainer::encode(const TokenBatch& in, bool training) {
  const int B = in.batch, T = in.seq_len, H = config_.hidden_size, A = config_.num_attention_heads;
  const int I = config_.intermediate_size;
  const std::int64_t N = static_cast<std::int64_t>(B) * T;
  check_token_batch(in, config_);
  const float p = training ? options_.dropout : 0.0f;
  const float eps = config_.layer_norm_eps;
  const bool attention_dropout = config_.architecture().attention_output_dropout;

  auto f = std::make_unique<Forward>();
  f->B = B;
  f->T = T;
  f->training = training;
  f->ids = backend_.upload(std::span<const std::int32_t>(in.ids), {N});
  const std::vector<std::int32_t> types = config_.type_ids(in.type_ids);
  f->type_ids = backend_.upload(std::span<const std::int32_t>(types), {N});
  const std::vector<std::int32_t> positions = config_.position_ids(in.ids, B, T);
  f->position_ids = backend_.upload(std::span<const std::int32_t>(positions), {N});
  f->mask = backend_.upload(std::span<const std::int32_t>(in.mask), {B, T});
  f->embedding_sum = backend_.empty({N, H});
  backend_.embed(f->ids, f->position_ids, f->type_ids, word_->value, position_->value, token_types(), f->embedding_sum);
  Tensor x = backend_.empty({N, H});  // (N, H)
  backend_.layer_norm(f->embedding_sum, nullptr, embedding_norm_.gamma->value, embedding_norm_.beta->value, eps, x);
  if (p > 0) backend_.dropout(x, p, dropout_seed(0), x);

  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& w = layers_[l];
    const int site = 1 + static_cast<int>(l) * kSitesPerLayer;
    LayerActivations a;
    a.input = std::move(x);
    a.q = backend_.empty({N, H});
    a.k = backend_.empty({N, H});
    a.v = backend_.empty({N, H});
    backend_.linear(a.input, w.query.weight->value, &w.query.bias->value, Activation::None, a.q);
    backend_.linear(a.input, w.key.weight->value, &w.key.bias->value, Activation::None, a.k);
    backend_.linear(a.input, w.value.weight->value, &w.value.bias->value, Activation::None, a.v);
    a.probs = backend_.empty({B, A, T, T});
    backend_.attention_probs(a.q, a.k, f->mask, A, a.probs);
    if (p > 0) {
      a.probs_dropped = backend_.empty({B, A, T, T});
      backend_.dropout(a.probs, p, dropout_seed(site), a.probs_dropped);
    }
    a.context = backend_.empty({N, H});
    backend_.attention_context(p > 0 ? a.probs_dropped : a.probs, a.v, A, a.context);
    a.sum1 = backend_.empty({N, H});
    backend_.linear(a.context, w.attention_output.weight->value, &w.attention_output.bias->value, Activation::None, a.sum1);
    if (p > 0 && attention_dropout) backend_.dropout(a.sum1, p, dropout_seed(site + 1), a.sum1);
    backend_.add(a.sum1, a.input, a.sum1);
    a.x1 = backend_.empty({N, H});
    backend_.layer_norm(a.sum1, nullptr, w.attention_norm.gamma->value, w.attention_norm.beta->value, eps, a.x1);
    a.inner_pre = backend_.empty({N, I});
    backend_.linear(a.x1, w.intermediate.weight->value, &w.intermediate.bias->value, Activation::None, a.inner_pre);
    a.inner = backend_.empty({N, I});
    backend_.activate(a.inner_pre, config_.activation(), a.inner);
    a.sum2 = backend_.empty({N, H});
    backend_.linear(a.inner, w.output.weight->value, &w.output.bias->value, Activation::None, a.sum2);
    if (p > 0) backend_.dropout(a.sum2, p, dropout_seed(site + 2), a.sum2);
    backend_.add(a.sum2, a.x1, a.sum2);
    x = backend_.empty({N, H});
    backend_.layer_norm(a.sum2, nullptr, w.output_norm.gamma->value, w.output_norm.beta->value, eps, x);
    f->layers.push_back(std::move(a));
  }
  f->hidden = std::move(x);
  return f;
}

void BertTrainer::backward_encoder(Forward& f, Tensor& dx) {
  const int A = config_.num_attention_heads, I = config_.intermediate_size, H = config_.hidden_size;
  const std::int64_t N = static_cast<std::int64_t>(f.B) * f.T;
  const float p = f.training ? options_.dropout : 0.0f;
  const float eps = config_.layer_norm_eps;
  const bool attention_dropout = config_.architecture().attention_output_dropout;
  // dx: (N, H) the gradient of the last layer's output; walks down, becoming each layer's input gradient.
  for (int l = static_cast<int>(layers_.size()) - 1; l >= options_.frozen_layers; --l) {
    const Layer& w = layers_[static_cast<size_t>(l)];
    LayerActivations& a = f.layers[static_cast<size_t>(l)];
    const int site = 1 + l * kSitesPerLayer;
    // Second sublayer: x_out = LN(dropout(inner W_o^T + b_o) + x1).
    Tensor dsum2 = backend_.empty({N, H});
    backend_.layer_norm_backward(a.sum2, dx, w.output_norm.gamma->value, eps, dsum2, w.output_norm.gamma->grad,
                                 w.output_norm.beta->grad);
    Tensor dproj2 = backend_.empty({N, H});
    if (p > 0) backend_.dropout(dsum2, p, dropout_seed(site + 2), dproj2);
    const Tensor& dout = p > 0 ? dproj2 : dsum2;
    Tensor dinner = backend_.empty({N, I});
    backward_linear(w.output, dout, a.inner, dinner, false);
    backend_.activation_backward(a.inner_pre, dinner, config_.activation(), dinner);
    backend_.linear_backward_weight(dinner, a.x1, w.intermediate.weight->grad, &w.intermediate.bias->grad);
    Tensor& dx1 = dsum2;  // the residual path, plus the feed-forward path below
    backend_.linear_backward_input(dinner, w.intermediate.weight->value, true, dx1);
    // First sublayer: x1 = LN(dropout(context W_ao^T + b_ao) + input).
    Tensor dsum1 = backend_.empty({N, H});
    backend_.layer_norm_backward(a.sum1, dx1, w.attention_norm.gamma->value, eps, dsum1, w.attention_norm.gamma->grad,
                                 w.attention_norm.beta->grad);
    Tensor dproj1 = backend_.empty({N, H});
    if (p > 0 && attention_dropout) backend_.dropout(dsum1, p, dropout_seed(site + 1), dproj1);
    const Tensor& dattn = p > 0 && attention_dropout ? dproj1 : dsum1;
    Tensor dcontext = backend_.empty({N, H});
    backward_linear(w.attention_output, dattn, a.context, dcontext, false);
    Tensor dprobs = backend_.empty(a.probs.shape());  // (B, A, T, T)
    Tensor dq = backend_.empty({N, H}), dk = backend_.empty({N, H}), dv = backend_.empty({N, H});
    backend_.attention_context_backward(p > 0 ? a.probs_dropped : a.probs, a.v, dcontext, A, dprobs, dv);
    if (p > 0) backend_.dropout(dprobs, p, dropout_seed(site), dprobs);
    backend_.attention_probs_backward(a.q, a.k, a.probs, dprobs, A, dq, dk);
    Tensor& dinput = dsum1;  // the residual path, plus the three projections
    for (auto [d, lin] : {std::pair{&dq, &w.query}, {&dk, &w.key}, {&dv, &w.value}}) {
      backward_linear(*lin, *d, a.input, dinput, true);
    }
    dx = std::move(dinput);
    a = LayerActivations{};  // done with this layer: free its activations early
  }
  if (options_.frozen_layers > 0) return;
  // Embeddings: x0 = dropout(LN(word[ids] + position + type)).
  if (p > 0) backend_.dropout(dx, p, dropout_seed(0), dx);
  Tensor dsum = backend_.empty({N, H});
  backend_.layer_norm_backward(f.embedding_sum, dx, embedding_norm_.gamma->value, eps, dsum, embedding_norm_.gamma->grad,
                               embedding_norm_.beta->grad);
  Tensor& dtypes = token_type_ ? token_type_->grad : no_token_types_grad_;  // the stand-in's gradient is discarded
  backend_.embed_backward(dsum, f.ids, f.position_ids, f.type_ids, word_->grad, position_->grad, dtypes);
}

void BertTrainer::classification_head(Forward& f, const std::vector<std::int32_t>* labels, std::vector<float>* logits,
                                      double* loss) {
  const int B = f.B, H = config_.hidden_size, L = static_cast<int>(options_.labels.size());
  const float p = f.training ? options_.dropout : 0.0f;
  std::vector<std::int32_t> cls_rows(static_cast<size_t>(B));
  for (int b = 0; b < B; ++b) cls_rows[static_cast<size_t>(b)] = b * f.T;  // [CLS] / <s>: each sentence's first token
  Tensor rows = backend_.upload(std::span<const std::int32_t>(cls_rows), {B});
  const Activation act = config_.architecture().names.sequence_activation;  // BERT, RoBERTa: tanh; DistilBERT: ReLU
  const bool dropout_first = config_.architecture().sequence_dropout_before_dense;
  Tensor cls = backend_.empty({B, H}), pooled_pre = backend_.empty({B, H}), pooled = backend_.empty({B, H});
  backend_.gather_rows(f.hidden, rows, cls);
  const int pooled_site = 1 + static_cast<int>(layers_.size()) * kSitesPerLayer;
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
  backward_encoder(f, dhidden);
}

void BertTrainer::mlm_head(Forward& f, const std::vector<std::int32_t>& picked_rows,
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
  backward_encoder(f, dhidden);
}

double BertTrainer::compute_gradients(const TrainBatch& batch) {
  ++step_;
  for (auto& p : params_)
    if (p->trainable) backend_.fill(p->grad, 0.0f);
  auto f = encode(batch.tokens, options_.dropout > 0);
  double loss = 0;
  if (options_.head == TrainHead::SequenceClassification) {
    if (static_cast<int>(batch.labels.size()) != batch.tokens.batch) throw Error("internal: one label per sentence expected");
    classification_head(*f, &batch.labels, nullptr, &loss);
  } else {
    if (batch.labels.size() != batch.tokens.ids.size()) throw Error("internal: one masked-LM label per token expected");
    std::vector<std::int32_t> rows, labels;
    for (size_t i = 0; i < batch.labels.size(); ++i)
      if (batch.labels[i] >= 0) {
        rows.push_back(static_cast<std::int32_t>(i));
        labels.push_back(batch.labels[i]);
      }
    if (rows.empty()) throw Error("masked-LM batch has no masked tokens");
    mlm_head(*f, rows, &labels, nullptr, &loss);
  }
  return loss;
}

std::vector<float> BertTrainer::classification_logits(const TokenBatch& batch) {
  if (options_.head != TrainHead::SequenceClassification) throw Error("this trainer has no classification head");
  auto f = encode(batch, false);
  std::vector<float> logits;
  classification_head(*f, nullptr, &logits, nullptr);
  return logits;
}

std::vector<float> BertTrainer::mlm_logits(const TokenBatch& batch, const std::vector<std::int32_t>& rows) {
  if (options_.head != TrainHead::MaskedLM) throw Error("this trainer has no masked-LM head");
  auto f = encode(batch, false);
  std::vector<float> logits;
  mlm_head(*f, rows, nullptr, &logits, nullptr);
  return logits;
}

}  // namespace bertscope
