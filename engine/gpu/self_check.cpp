#include "gpu/self_check.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <utility>
#include <vector>

#include "core/error.h"

namespace bertscope::gpu {

namespace {

// The tiny model's sizes. Not multiples of the kernels' tiles or workgroups, so edge handling is exercised too.
constexpr int kBatch = 2, kSeq = 9, kHidden = 48, kHeads = 4, kInner = 80, kVocab = 70, kPositions = 16, kLayers = 2;
constexpr int kTokens = kBatch * kSeq;  // N
constexpr float kEps = 1e-12f;

// A fixed generator (not <random>'s distributions, whose output differs between standard libraries): the same
// weights everywhere, so a verdict means the same thing on every machine.
struct Lcg {
  std::uint64_t state = 0x5eedb1a5ULL;
  float uniform() {  // [-1, 1)
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<float>(state >> 40) / 8388608.0f - 1.0f;
  }
  std::vector<float> values(std::int64_t n, float scale, float offset = 0.0f) {
    std::vector<float> v(static_cast<size_t>(n));
    for (float& x : v) x = offset + scale * uniform();
    return v;
  }
};

// Named outputs; a deque, so references to kept tensors stay valid as more are kept.
using Outputs = std::deque<std::pair<std::string, Tensor>>;

// Runs the tiny model and the training ops on `b`; every tensor worth comparing goes into `out` by name.
void run_probe(Backend& b, Outputs& out) {
  Lcg rng;
  auto random = [&](const Shape& shape, float scale, float offset = 0.0f) {
    return b.upload(rng.values(element_count(shape), scale, offset), shape);
  };
  auto ints = [&](const std::vector<std::int32_t>& v, const Shape& shape) {
    return b.upload(std::span<const std::int32_t>(v), shape);
  };
  auto zeros = [&](const Shape& shape) { Tensor t = b.empty(shape); b.fill(t, 0.0f); return t; };
  auto keep = [&](const std::string& name, Tensor t) -> const Tensor& {
    return out.emplace_back(name, std::move(t)).second;
  };
  // out (N, M) = act(x (N, K) W^T + bias) with fresh random W (M, K) scaled by 1/sqrt(K), and bias (M) unless none.
  auto linear = [&](const Tensor& x, std::int64_t m, Activation act, bool bias, float gain = 1.0f) {
    const std::int64_t n = x.dim(0), kk = x.dim(1);
    Tensor weight = random({m, kk}, gain / std::sqrt(float(kk))), b_vec = random({m}, 0.1f), y = b.empty({n, m});
    b.linear(x, weight, bias ? &b_vec : nullptr, act, y);
    return y;
  };
  auto norm = [&](const Tensor& x, const Tensor* residual) {
    Tensor y = b.empty(x.shape()), gamma = random({x.dim(1)}, 0.2f, 1.0f), beta = random({x.dim(1)}, 0.2f);
    b.layer_norm(x, residual, gamma, beta, kEps, y);
    return y;
  };

  // Input: two sentences; the second one's last 3 tokens are padding (mask 0); tokens from 5 on have type 1.
  std::vector<std::int32_t> ids(kTokens), positions(kTokens), types(kTokens), mask(kTokens);
  for (int i = 0; i < kTokens; ++i) {
    const int t = i % kSeq;
    ids[size_t(i)] = (i * 37 + 11) % kVocab;
    positions[size_t(i)] = t;
    types[size_t(i)] = t >= 5 ? 1 : 0;
    mask[size_t(i)] = i >= kTokens - 3 ? 0 : 1;
  }
  const Tensor ids_t = ints(ids, {kTokens}), positions_t = ints(positions, {kTokens}), types_t = ints(types, {kTokens});
  const Tensor mask_t = ints(mask, {kBatch, kSeq});

  // ---- forward: embeddings, LayerNorm, 2 encoder layers (GELU, then ReLU), a tanh pooler, vocabulary logits ----
  Tensor embedded = b.empty({kTokens, kHidden});  // (N, H)
  {
    Tensor word = random({kVocab, kHidden}, 1.0f), position = random({kPositions, kHidden}, 1.0f);
    Tensor type = random({2, kHidden}, 1.0f);
    b.embed(ids_t, positions_t, types_t, word, position, type, embedded);
  }
  const Tensor& embeddings = keep("embedding sums (embed)", std::move(embedded));
  const Tensor* hidden = &keep("normalised embeddings (layer_norm)", norm(embeddings, nullptr));
  const Tensor *q = nullptr, *k = nullptr, *v = nullptr, *probs = nullptr, *inner = nullptr;  // the last layer's
  for (int layer = 1; layer <= kLayers; ++layer) {
    const std::string at = " of layer " + std::to_string(layer);
    q = &keep("queries (linear)" + at, linear(*hidden, kHidden, Activation::None, true, 2.0f));  // (N, H)
    k = &keep("keys (linear)" + at, linear(*hidden, kHidden, Activation::None, true, 2.0f));
    v = &keep("values (linear)" + at, linear(*hidden, kHidden, Activation::None, true));
    Tensor p = b.empty({kBatch, kHeads, kSeq, kSeq}), context = b.empty({kTokens, kHidden});
    b.attention_probs(*q, *k, mask_t, kHeads, p);
    probs = &keep("attention probabilities (attention_probs)" + at, std::move(p));
    b.attention_context(*probs, *v, kHeads, context);
    const Tensor& ctx = keep("attention context (attention_context)" + at, std::move(context));
    const Tensor& attended = keep("attention output (linear, layer_norm)" + at,
                                  norm(linear(ctx, kHidden, Activation::None, true), hidden));
    inner = &keep("feed-forward (linear, " + std::string(layer == 1 ? "GELU" : "ReLU") + ")" + at,
                  linear(attended, kInner, layer == 1 ? Activation::Gelu : Activation::Relu, true));
    hidden = &keep("hidden states (linear, layer_norm)" + at,
                   norm(linear(*inner, kHidden, Activation::None, false), &attended));
  }
  const Tensor& rows = keep("row indices (upload)", ints({0, 4, kSeq + 2}, {3}));  // R = 3 distinct rows
  Tensor gathered = b.empty({3, kHidden});
  b.gather_rows(*hidden, rows, gathered);
  const Tensor& selected = keep("gathered rows (gather_rows)", std::move(gathered));
  const Tensor& pooled = keep("pooled (linear, tanh)", linear(selected, kHidden, Activation::Tanh, true));
  const Tensor& decoder = keep("decoder weights (upload)", random({kVocab, kHidden}, 2.0f / std::sqrt(float(kHidden))));
  Tensor scores = b.empty({3, kVocab}), decoder_bias = random({kVocab}, 0.1f);
  b.linear(pooled, decoder, &decoder_bias, Activation::None, scores);
  const Tensor& logits = keep("logits (linear)", std::move(scores));

  // ---- every training op once, on these tensors ----
  Tensor losses = b.empty({3}), dlogits = b.empty({3, kVocab});
  b.cross_entropy(logits, ints({3, -1, 7}, {3}), 0.5f, losses, dlogits);
  Tensor dpooled = b.empty({3, kHidden}), dselected = b.empty({3, kHidden});
  b.linear_backward_input(dlogits, decoder, false, dpooled);
  b.linear_backward_input(dlogits, decoder, true, dpooled);  // accumulating: twice the gradient
  Tensor ddecoder = zeros({kVocab, kHidden}), dbias = zeros({kVocab});
  b.linear_backward_weight(dlogits, pooled, ddecoder, &dbias);
  b.activation_backward(pooled, dpooled, Activation::Tanh, dselected);
  Tensor dhidden = zeros({kTokens, kHidden});
  b.scatter_add_rows(dselected, rows, dhidden);
  b.add(dhidden, *q, dhidden);  // a gradient in every row, not only the gathered ones
  Tensor dnorm = b.empty({kTokens, kHidden}), dgamma = zeros({kHidden}), dbeta = zeros({kHidden});
  {
    Tensor gamma = random({kHidden}, 0.2f, 1.0f);
    b.layer_norm_backward(*hidden, dhidden, gamma, kEps, dnorm, dgamma, dbeta);
  }
  Tensor dprobs = b.empty({kBatch, kHeads, kSeq, kSeq}), dv = b.empty({kTokens, kHidden});
  b.attention_context_backward(*probs, *v, dnorm, kHeads, dprobs, dv);
  Tensor dq = b.empty({kTokens, kHidden}), dk = b.empty({kTokens, kHidden});
  b.attention_probs_backward(*q, *k, *probs, dprobs, kHeads, dq, dk);
  Tensor dword = zeros({kVocab, kHidden}), dposition = zeros({kPositions, kHidden}), dtype = zeros({2, kHidden});
  b.embed_backward(dq, ids_t, positions_t, types_t, dword, dposition, dtype);
  Tensor dinner = b.empty(inner->shape()), gelu = b.empty(inner->shape()), dropped = b.empty(inner->shape());
  b.activation_backward(*inner, *inner, Activation::Gelu, dinner);
  b.activate(*inner, Activation::Gelu, gelu);
  b.dropout(*inner, 0.25f, 1234u, dropped);
  Tensor sums = zeros({2});
  b.sum_squares(dword, sums, 0);
  b.sum_squares(ddecoder, sums, 1);
  Tensor param = random({kVocab, kHidden}, 0.1f), m = zeros({kVocab, kHidden}), second = zeros({kVocab, kHidden});
  AdamWStep step;
  step.lr = 1e-2f;
  step.weight_decay = 0.01f;
  step.grad_scale = 0.5f;
  b.adamw(param, ddecoder, m, second, step);

  keep("losses (cross_entropy)", std::move(losses));
  keep("logit gradients (cross_entropy)", std::move(dlogits));
  keep("input gradients (linear_backward_input, matmul)", std::move(dpooled));
  keep("weight gradients (linear_backward_weight, matmul)", std::move(ddecoder));
  keep("bias gradients (linear_backward_weight, column_sums)", std::move(dbias));
  keep("tanh gradients (activation_backward)", std::move(dselected));
  keep("scattered gradients (scatter_add_rows, add)", std::move(dhidden));
  keep("LayerNorm input gradients (layer_norm_backward)", std::move(dnorm));
  keep("LayerNorm gamma gradients (layer_norm_backward, column_sums)", std::move(dgamma));
  keep("LayerNorm beta gradients (layer_norm_backward, column_sums)", std::move(dbeta));
  keep("score gradients (attention_probs_backward, softmax_backward)", std::move(dprobs));
  keep("value gradients (attention_context_backward, matmul)", std::move(dv));
  keep("query gradients (attention_probs_backward, matmul)", std::move(dq));
  keep("key gradients (attention_probs_backward, matmul)", std::move(dk));
  keep("word embedding gradients (embed_backward)", std::move(dword));
  keep("position embedding gradients (embed_backward)", std::move(dposition));
  keep("token type gradients (embed_backward)", std::move(dtype));
  keep("GELU gradients (activation_backward)", std::move(dinner));
  keep("GELU (activate)", std::move(gelu));
  keep("dropout (dropout)", std::move(dropped));
  keep("sums of squares (sum_squares)", std::move(sums));
  keep("AdamW parameters (adamw)", std::move(param));
  keep("AdamW first moments (adamw)", std::move(m));
  keep("AdamW second moments (adamw)", std::move(second));

  // Hugging Face's head_mask on the last layer's attention: head 1 switched off, head 2 halved.
  const std::vector<float> head_scale = {1.0f, 0.0f, 0.5f, 1.0f};
  static_assert(kHeads == 4);
  Tensor scaled = b.empty(probs->shape());
  b.scale_heads(*probs, b.upload(std::span<const float>(head_scale), {kHeads}), scaled);
  keep("head-masked attention probabilities (scale_heads)", std::move(scaled));
}

std::vector<std::pair<std::string, std::vector<float>>> run_and_download(Backend& b) {
  Outputs outputs;
  run_probe(b, outputs);
  std::vector<std::pair<std::string, std::vector<float>>> host;
  for (auto& [name, tensor] : outputs) {
    std::vector<float> values(static_cast<size_t>(tensor.numel()));
    b.download(tensor, values);
    host.emplace_back(name, std::move(values));
  }
  return host;
}

// Largest |got - want| / max(1, max |want|); infinite when `got` has a NaN or an infinity that `want` lacks.
double normalised_error(const std::vector<float>& want, const std::vector<float>& got) {
  double scale = 1.0, error = 0.0;
  for (float x : want) scale = std::max(scale, static_cast<double>(std::fabs(x)));
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    error = std::max(error, static_cast<double>(std::fabs(got[i] - want[i])));
  }
  return error / scale;
}

std::string format_error(double e) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2g", e);
  return buffer;
}

}  // namespace

SelfCheckResult run_self_check(Backend& candidate, Backend& reference) {
  SelfCheckResult r;
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(); };
  const auto want = run_and_download(reference);
  std::vector<std::pair<std::string, std::vector<float>>> got;
  try {
    got = run_and_download(candidate);
  } catch (const DeviceError& e) {
    r.device_error = true;
    r.reason = std::string("the self-check failed on the device: ") + e.what();
    r.ms = elapsed();
    return r;
  } catch (const std::exception& e) {
    r.reason = std::string("the self-check could not run on the device: ") + e.what();
    r.ms = elapsed();
    return r;
  }
  r.ms = elapsed();
  r.passed = true;
  for (size_t i = 0; i < want.size(); ++i) {
    const double e = normalised_error(want[i].second, got[i].second);
    if (e > r.max_error || r.worst_output.empty()) r.max_error = e, r.worst_output = want[i].first;
    if (e > kSelfCheckTolerance && r.passed) {
      r.passed = false;
      r.reason = "its " + want[i].first + " differ from the CPU's by " + format_error(e) + " (normalised; at most " +
                 format_error(kSelfCheckTolerance) + " allowed)";
    }
    ++r.outputs;
  }
  return r;
}

}  // namespace bertscope::gpu
