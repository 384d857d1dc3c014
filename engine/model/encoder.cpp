#include "model/encoder.h"

#include <algorithm>

#include "core/error.h"

namespace bertscope {

void check_token_batch(const TokenBatch& in, const ModelConfig& config) {
  const std::int64_t N = static_cast<std::int64_t>(in.batch) * in.seq_len;
  if (in.batch <= 0 || in.seq_len <= 0 || static_cast<std::int64_t>(in.ids.size()) != N ||
      in.type_ids.size() != in.ids.size() || in.mask.size() != in.ids.size())
    throw Error("internal: malformed token batch");
  if (in.seq_len > config.max_tokens())
    throw Error("input has " + std::to_string(in.seq_len) + " tokens; this model takes at most " +
                std::to_string(config.max_tokens()));
  const int type_rows = config.type_vocab_size;  // families without token types ignore the ids (ModelConfig::type_ids)
  for (std::int64_t i = 0; i < N; ++i) {  // the shaders index tables with these: check them here
    if (in.ids[i] < 0 || in.ids[i] >= config.vocab_size)
      throw Error("token id " + std::to_string(in.ids[i]) + " is outside the vocabulary of " + std::to_string(config.vocab_size));
    if (config.has_token_types() && (in.type_ids[i] < 0 || in.type_ids[i] >= type_rows))
      throw Error("token type id " + std::to_string(in.type_ids[i]) + " is outside 0.." + std::to_string(type_rows - 1));
  }
}

EncoderRefs lay_out_encoder(const ModelConfig& config, const std::function<Tensor*(const EncoderTensorSpec&)>& place) {
  const int H = config.hidden_size, I = config.intermediate_size, V = config.vocab_size;
  const TensorNames& n = config.architecture().names;
  int layer = -1;
  auto tensor = [&](const std::string& name, Shape shape, ParamKind kind) {
    return place(EncoderTensorSpec{name, std::move(shape), kind, layer});
  };
  auto linear = [&](const std::string& prefix, int out, int in) {
    return LinearRef{tensor(prefix + ".weight", {out, in}, ParamKind::Weight), tensor(prefix + ".bias", {out}, ParamKind::Bias)};
  };
  auto norm = [&](const std::string& prefix) {
    return NormRef{tensor(prefix + ".weight", {H}, ParamKind::NormWeight), tensor(prefix + ".bias", {H}, ParamKind::NormBias)};
  };

  EncoderRefs r;
  r.word = tensor(n.encoder(n.word), {V, H}, ParamKind::Table);
  r.position = tensor(n.encoder(n.position), {config.max_position_embeddings, H}, ParamKind::Table);
  if (config.has_token_types()) r.token_type = tensor(n.encoder(n.token_type), {config.type_vocab_size, H}, ParamKind::Table);
  r.embedding_norm = norm(n.encoder(n.embedding_norm));
  for (layer = 0; layer < config.num_hidden_layers; ++layer) {
    auto name = [&](const std::string& part) { return n.in_layer(layer, part); };
    EncoderLayerRefs w;
    w.query = linear(name(n.query), H, H);
    w.key = linear(name(n.key), H, H);
    w.value = linear(name(n.value), H, H);
    w.attention_output = linear(name(n.attention_output), H, H);
    w.attention_norm = norm(name(n.attention_norm));
    w.intermediate = linear(name(n.intermediate), I, H);
    w.output = linear(name(n.output), H, I);
    w.output_norm = norm(name(n.output_norm));
    r.layers.push_back(w);
  }
  return r;
}

std::vector<EncoderTensorSpec> encoder_tensor_specs(const ModelConfig& config) {
  std::vector<EncoderTensorSpec> specs;
  lay_out_encoder(config, [&](const EncoderTensorSpec& s) -> Tensor* {
    specs.push_back(s);
    return nullptr;
  });
  return specs;
}

bool HeadMask::switches_off_any(int layer) const {
  if (empty()) return false;
  for (int h = 0; h < heads; ++h)
    if (at(layer, h) != 1.0f) return true;
  return false;
}

int HeadMask::heads_off() const {
  return static_cast<int>(std::count(keep.begin(), keep.end(), 0.0f));
}

Encoder::Encoder(const ModelConfig& config, Backend& backend, EncoderRefs weights)
    : config_(config), backend_(backend), weights_(std::move(weights)) {
  if (!weights_.token_type) {  // every token has type 0, and adding a row of zeros changes nothing
    const int H = config_.hidden_size;
    std::vector<float> zeros(static_cast<size_t>(H), 0.0f);
    no_token_types_ = backend_.upload(std::span<const float>(zeros), {1, H});
    no_token_types_grad_ = backend_.empty({1, H});
  }
}

Tensor Encoder::head_scale(const HeadMask* mask, const std::vector<HeadMask>* per_sentence, int layer) {
  const int A = config_.num_attention_heads;
  if (per_sentence) {
    bool any = false;
    for (const HeadMask& m : *per_sentence) any = any || m.switches_off_any(layer);
    if (!any) return {};
    std::vector<float> scale;  // (B, A)
    for (const HeadMask& m : *per_sentence)
      for (int h = 0; h < A; ++h) scale.push_back(m.empty() ? 1.0f : m.at(layer, h));
    return backend_.upload(std::span<const float>(scale), {static_cast<std::int64_t>(per_sentence->size()), A});
  }
  if (!mask || !mask->switches_off_any(layer)) return {};
  return backend_.upload(std::span<const float>(mask->keep.data() + static_cast<size_t>(layer) * A, static_cast<size_t>(A)), {A});
}

Tensor Encoder::embed(const TokenBatch& in, const std::vector<std::int32_t>* word_ids) {
  check_token_batch(in, config_);
  const std::int64_t N = static_cast<std::int64_t>(in.batch) * in.seq_len;
  if (word_ids) {
    TokenBatch words = in;
    words.ids = *word_ids;
    check_token_batch(words, config_);  // the same size, and ids inside the vocabulary
  }
  Tensor ids = backend_.upload(std::span<const std::int32_t>(word_ids ? *word_ids : in.ids), {N});
  const std::vector<std::int32_t> host_types = config_.type_ids(in.type_ids);
  Tensor type_ids = backend_.upload(std::span<const std::int32_t>(host_types), {N});
  const std::vector<std::int32_t> host_positions = config_.position_ids(in.ids, in.batch, in.seq_len);
  Tensor position_ids = backend_.upload(std::span<const std::int32_t>(host_positions), {N});
  Tensor sum = backend_.empty({N, config_.hidden_size});  // (N, H)
  const EncoderRefs& w = weights_;
  backend_.embed(ids, position_ids, type_ids, *w.word, *w.position, w.token_type ? *w.token_type : no_token_types_, sum);
  return sum;
}

EncoderOutput Encoder::forward(const TokenBatch& in, const EncoderRun& run) {
  const int B = in.batch, T = in.seq_len, H = config_.hidden_size, A = config_.num_attention_heads;
  const int I = config_.intermediate_size;
  const std::int64_t N = static_cast<std::int64_t>(B) * T;
  check_token_batch(in, config_);
  const bool training = run.for_backward;
  // Dropout and the unfused ops below exist for the backward pass; inference fuses the residual into the
  // LayerNorm and the activation into the linear layer, and reuses one set of buffers for every layer.
  if (run.dropout > 0 && (!training || !run.dropout_seed)) throw Error("internal: dropout runs only when training");
  if (training && (run.keep_attentions || run.keep_hidden_states))
    throw Error("internal: a training pass keeps its activations in `layers`");
  const std::vector<std::int32_t>* output_rows = run.output_rows && !run.output_rows->empty() ? run.output_rows : nullptr;
  if (output_rows && (training || run.keep_hidden_states))
    throw Error("internal: output rows are for inference without hidden states");
  const HeadMask* head_mask = run.head_mask && !run.head_mask->empty() ? run.head_mask : nullptr;
  const std::vector<HeadMask>* sentence_masks = run.sentence_head_masks;
  auto check_mask = [&](const HeadMask& m) {
    if (!m.empty() && (m.layers != static_cast<int>(weights_.layers.size()) || m.heads != A ||
                       m.keep.size() != static_cast<size_t>(m.layers) * A))
      throw Error("head mask of " + std::to_string(m.layers) + " x " + std::to_string(m.heads) + " for a model of " +
                  std::to_string(weights_.layers.size()) + " layers x " + std::to_string(A) + " heads");
  };
  if (head_mask) check_mask(*head_mask);
  if (sentence_masks) {
    if (static_cast<int>(sentence_masks->size()) != B) throw Error("internal: one head mask per sentence expected");
    for (const HeadMask& m : *sentence_masks) check_mask(m);
  }
  const float p = run.dropout, eps = config_.layer_norm_eps;
  const bool attention_output_dropout = config_.architecture().attention_output_dropout;
  auto drop = [&](Tensor& t, int site) {
    if (p > 0) backend_.dropout(t, p, run.dropout_seed(site), t);
  };
  auto ensure = [&](Tensor& t, const Shape& shape) {
    if (t.empty()) t = backend_.empty(shape);
  };
  const EncoderRefs& w = weights_;

  Tensor ids = backend_.upload(std::span<const std::int32_t>(in.ids), {N});
  const std::vector<std::int32_t> host_types = config_.type_ids(in.type_ids);
  Tensor type_ids = backend_.upload(std::span<const std::int32_t>(host_types), {N});
  const std::vector<std::int32_t> host_positions = config_.position_ids(in.ids, B, T);
  Tensor position_ids = backend_.upload(std::span<const std::int32_t>(host_positions), {N});
  Tensor mask = backend_.upload(std::span<const std::int32_t>(in.mask), {B, T});

  EncoderOutput out;
  Tensor embedding_sum;  // (N, H)
  if (run.embedding_sum) {
    if (run.embedding_sum->shape() != Shape{N, H}) throw Error("internal: embedding sum of the wrong shape");
    embedding_sum = std::move(*run.embedding_sum);
  } else {
    embedding_sum = backend_.empty({N, H});
    const Tensor& types = w.token_type ? *w.token_type : no_token_types_;
    backend_.embed(ids, position_ids, type_ids, *w.word, *w.position, types, embedding_sum);
  }
  Tensor x = backend_.empty({N, H});  // (N, H) the current layer's input
  backend_.layer_norm(embedding_sum, nullptr, *w.embedding_norm.gamma, *w.embedding_norm.beta, eps, x);
  drop(x, 0);

  LayerActivations scratch;  // inference: one set of buffers, reused by every layer
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const EncoderLayerRefs& lw = w.layers[l];
    const int site = 1 + static_cast<int>(l) * kSitesPerLayer;
    LayerActivations fresh;
    LayerActivations& a = training ? fresh : scratch;
    a.input = std::move(x);
    // Self-attention.
    ensure(a.q, {N, H});
    ensure(a.k, {N, H});
    ensure(a.v, {N, H});
    const Backend::LinearInto qkv[] = {{lw.query.weight, lw.query.bias, &a.q},
                                       {lw.key.weight, lw.key.bias, &a.k},
                                       {lw.value.weight, lw.value.bias, &a.v}};
    backend_.linears_of_one_input(a.input, qkv);
    Tensor scale = head_scale(head_mask, sentence_masks, static_cast<int>(l));  // empty unless a head here is off
    ensure(a.context, {N, H});
    // Inference that keeps no maps: the backend's attention where it has one, which need not hold them whole.
    if (training || run.keep_attentions ||
        !backend_.attention(a.q, a.k, a.v, mask, A, scale.empty() ? nullptr : &scale, a.context)) {
      ensure(a.probs, {B, A, T, T});
      backend_.attention_probs(a.q, a.k, mask, A, a.probs);
      const Tensor* used = &a.probs;  // (B, A, T, T) what multiplies the values
      if (p > 0) {
        ensure(a.probs_dropped, {B, A, T, T});
        backend_.dropout(a.probs, p, run.dropout_seed(site), a.probs_dropped);
        used = &a.probs_dropped;
      }
      if (!scale.empty() && training) {  // the softmax's backward needs `probs` as they were
        ensure(a.probs_dropped, {B, A, T, T});
        backend_.scale_heads(*used, scale, a.probs_dropped);
        used = &a.probs_dropped;
        a.head_scale = std::move(scale);
      } else if (!scale.empty()) {  // in place: the maps kept are then Hugging Face's output_attentions (0 where off)
        backend_.scale_heads(a.probs, scale, a.probs);
      }
      backend_.attention_context(*used, a.v, A, a.context);
    }
    std::int64_t rows = N;  // the rows the rest of the layer computes
    if (output_rows && l + 1 == w.layers.size()) {
      rows = static_cast<std::int64_t>(output_rows->size());
      Tensor index = backend_.upload(std::span<const std::int32_t>(*output_rows), {rows});
      Tensor context = backend_.empty({rows, H}), input = backend_.empty({rows, H});  // (R, H) each
      backend_.gather_rows(a.context, index, context);
      backend_.gather_rows(a.input, index, input);
      a.context = std::move(context);
      a.input = std::move(input);
      for (Tensor* t : {&a.sum1, &a.x1, &a.inner, &a.sum2}) *t = Tensor();  // N rows: new ones of R below
    }
    ensure(a.sum1, {rows, H});  // the attention output; training adds the residual to it in place
    backend_.linear(a.context, *lw.attention_output.weight, lw.attention_output.bias, Activation::None, a.sum1);
    ensure(a.x1, {rows, H});
    if (training) {
      if (attention_output_dropout) drop(a.sum1, site + 1);
      backend_.add(a.sum1, a.input, a.sum1);
      backend_.layer_norm(a.sum1, nullptr, *lw.attention_norm.gamma, *lw.attention_norm.beta, eps, a.x1);
    } else {
      backend_.layer_norm(a.sum1, &a.input, *lw.attention_norm.gamma, *lw.attention_norm.beta, eps, a.x1);
    }
    // Feed-forward.
    ensure(a.inner, {rows, I});
    if (training) {
      ensure(a.inner_pre, {N, I});
      backend_.linear(a.x1, *lw.intermediate.weight, lw.intermediate.bias, Activation::None, a.inner_pre);
      backend_.activate(a.inner_pre, config_.activation(), a.inner);
    } else {
      backend_.linear(a.x1, *lw.intermediate.weight, lw.intermediate.bias, config_.activation(), a.inner);
    }
    ensure(a.sum2, {rows, H});  // the feed-forward output; training adds the residual to it in place
    backend_.linear(a.inner, *lw.output.weight, lw.output.bias, Activation::None, a.sum2);
    // The layer's output goes to a fresh tensor where the input is kept; otherwise over the input.
    Tensor next = training || run.keep_hidden_states ? backend_.empty({N, H}) : std::move(a.input);
    if (training) {
      drop(a.sum2, site + 2);
      backend_.add(a.sum2, a.x1, a.sum2);
      backend_.layer_norm(a.sum2, nullptr, *lw.output_norm.gamma, *lw.output_norm.beta, eps, next);
      out.layers.push_back(std::move(fresh));
    } else {
      backend_.layer_norm(a.sum2, &a.x1, *lw.output_norm.gamma, *lw.output_norm.beta, eps, next);
      if (run.keep_hidden_states) out.hidden_states.push_back(std::move(a.input));
      if (run.keep_attentions) out.attentions.push_back(std::move(a.probs));  // the next layer gets a fresh one
    }
    x = std::move(next);
  }
  out.hidden = std::move(x);
  out.batch = B;
  out.seq_len = T;
  if (training) {
    out.run = run;
    out.run.head_mask = nullptr;  // applied already (each layer keeps its head_scale); the caller's may not outlive us
    out.run.sentence_head_masks = nullptr;
    out.run.embedding_sum = nullptr;
    out.ids = std::move(ids);
    out.position_ids = std::move(position_ids);
    out.type_ids = std::move(type_ids);
    out.mask = std::move(mask);
    out.embedding_sum = std::move(embedding_sum);
  }
  return out;
}

void Encoder::backward_linear(const LinearRef& w, const LinearRef& g, const Tensor& dy, const Tensor& x, Tensor& dx,
                              bool accumulate) {
  backend_.linear_backward_input(dy, *w.weight, accumulate, dx);
  if (g.weight) backend_.linear_backward_weight(dy, x, *g.weight, g.bias);  // none when only the input's is wanted
}

void Encoder::backward(EncoderOutput& f, Tensor& dx, const EncoderRefs& g, int frozen_layers) {
  backward_to(f, dx, g, frozen_layers, nullptr);
}

Tensor Encoder::input_gradient(EncoderOutput& f, Tensor& dhidden) {
  // No parameter gradients: linear layers get none (backward_linear skips them), and the LayerNorms' go to two
  // scratch vectors that are thrown away (layer_norm_backward always computes them).
  const int H = config_.hidden_size;
  Tensor scratch_gamma = backend_.empty({H}), scratch_beta = backend_.empty({H});
  backend_.fill(scratch_gamma, 0.0f);
  backend_.fill(scratch_beta, 0.0f);
  EncoderRefs none;
  none.embedding_norm = {&scratch_gamma, &scratch_beta};
  for (size_t l = 0; l < weights_.layers.size(); ++l) {
    EncoderLayerRefs layer;
    layer.attention_norm = layer.output_norm = none.embedding_norm;
    none.layers.push_back(layer);
  }
  Tensor dsum;
  backward_to(f, dhidden, none, 0, &dsum);
  return dsum;
}

void Encoder::backward_to(EncoderOutput& f, Tensor& dx, const EncoderRefs& g, int frozen_layers, Tensor* dembedding_sum) {
  if (f.layers.size() != weights_.layers.size()) throw Error("internal: the backward pass needs a training forward pass");
  const int A = config_.num_attention_heads, I = config_.intermediate_size, H = config_.hidden_size;
  const std::int64_t N = static_cast<std::int64_t>(f.batch) * f.seq_len;
  const float p = f.run.dropout, eps = config_.layer_norm_eps;
  const bool attention_output_dropout = config_.architecture().attention_output_dropout;
  auto seed = [&](int site) { return f.run.dropout_seed(site); };
  // dx: (N, H) the gradient of the last layer's output; walks down, becoming each layer's input gradient.
  for (int l = static_cast<int>(weights_.layers.size()) - 1; l >= frozen_layers; --l) {
    const EncoderLayerRefs& w = weights_.layers[static_cast<size_t>(l)];
    const EncoderLayerRefs& gw = g.layers[static_cast<size_t>(l)];
    LayerActivations& a = f.layers[static_cast<size_t>(l)];
    const int site = 1 + l * kSitesPerLayer;
    // Second sublayer: x_out = LN(dropout(inner W_o^T + b_o) + x1).
    Tensor dsum2 = backend_.empty({N, H});
    backend_.layer_norm_backward(a.sum2, dx, *w.output_norm.gamma, eps, dsum2, *gw.output_norm.gamma,
                                 *gw.output_norm.beta);
    Tensor dproj2 = backend_.empty({N, H});
    if (p > 0) backend_.dropout(dsum2, p, seed(site + 2), dproj2);
    const Tensor& dout = p > 0 ? dproj2 : dsum2;
    Tensor dinner = backend_.empty({N, I});  // (N, I)
    backward_linear(w.output, gw.output, dout, a.inner, dinner, false);
    backend_.activation_backward(a.inner_pre, dinner, config_.activation(), dinner);
    if (gw.intermediate.weight) backend_.linear_backward_weight(dinner, a.x1, *gw.intermediate.weight, gw.intermediate.bias);
    Tensor& dx1 = dsum2;  // the residual path, plus the feed-forward path below
    backend_.linear_backward_input(dinner, *w.intermediate.weight, true, dx1);
    // First sublayer: x1 = LN(dropout(context W_ao^T + b_ao) + input).
    Tensor dsum1 = backend_.empty({N, H});
    backend_.layer_norm_backward(a.sum1, dx1, *w.attention_norm.gamma, eps, dsum1, *gw.attention_norm.gamma,
                                 *gw.attention_norm.beta);
    Tensor dproj1 = backend_.empty({N, H});
    const bool dropped = p > 0 && attention_output_dropout;
    if (dropped) backend_.dropout(dsum1, p, seed(site + 1), dproj1);
    Tensor dcontext = backend_.empty({N, H});
    backward_linear(w.attention_output, gw.attention_output, dropped ? dproj1 : dsum1, a.context, dcontext, false);
    if (f.run.on_context_gradient) f.run.on_context_gradient(l, a.context, dcontext);
    Tensor dprobs = backend_.empty(a.probs.shape());  // (B, A, T, T)
    Tensor dq = backend_.empty({N, H}), dk = backend_.empty({N, H}), dv = backend_.empty({N, H});
    const bool masked = !a.head_scale.empty();
    backend_.attention_context_backward(p > 0 || masked ? a.probs_dropped : a.probs, a.v, dcontext, A, dprobs, dv);
    if (masked) backend_.scale_heads(dprobs, a.head_scale, dprobs);
    if (p > 0) backend_.dropout(dprobs, p, seed(site), dprobs);
    backend_.attention_probs_backward(a.q, a.k, a.probs, dprobs, A, dq, dk);
    Tensor& dinput = dsum1;  // the residual path, plus the three projections
    backward_linear(w.query, gw.query, dq, a.input, dinput, true);
    backward_linear(w.key, gw.key, dk, a.input, dinput, true);
    backward_linear(w.value, gw.value, dv, a.input, dinput, true);
    dx = std::move(dinput);
    a = LayerActivations{};  // done with this layer: free its activations early
  }
  if (frozen_layers > 0) return;
  // Embeddings: x0 = dropout(LN(word[ids] + position + type)).
  if (p > 0) backend_.dropout(dx, p, seed(0), dx);
  Tensor dsum = backend_.empty({N, H});
  backend_.layer_norm_backward(f.embedding_sum, dx, *weights_.embedding_norm.gamma, eps, dsum,
                               *g.embedding_norm.gamma, *g.embedding_norm.beta);
  if (dembedding_sum) {
    *dembedding_sum = std::move(dsum);
    return;
  }
  Tensor& dtypes = g.token_type ? *g.token_type : no_token_types_grad_;  // the stand-in's gradient is discarded
  backend_.embed_backward(dsum, f.ids, f.position_ids, f.type_ids, *g.word, *g.position, dtypes);
}

}  // namespace bertscope
