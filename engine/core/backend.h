#pragma once
// Backend: the ops of a BERT forward pass, implemented twice: cpu/ (plain loops + OpenBLAS, the reference) and
// gpu/ (Vulkan compute shaders). The model code is written once against this interface.
//
// Ops may run asynchronously (Vulkan records them into a command buffer); `download` waits for everything
// recorded so far. A backend is used from one thread at a time.
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/tensor.h"

namespace bertscope {

enum class Activation : std::int32_t { None = 0, Gelu = 1, Tanh = 2, Relu = 3 };

// One AdamW update (decoupled weight decay, bias-corrected moments), for every element of a parameter.
struct AdamWStep {
  float lr = 0;            // learning rate of this step (after warm-up/decay)
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0;  // 0 for biases and LayerNorm weights
  float grad_scale = 1;    // gradients are multiplied by this first (global-norm clipping)
  int step = 1;            // 1-based, for bias correction
};

// Dropout's keep decision for element i: a counter-based hash, identical on every backend, so a mask never needs
// storing (the backward pass recomputes it) and CPU and Vulkan training agree bit for bit on which units drop.
inline std::uint32_t dropout_hash(std::uint32_t x) {
  x ^= x >> 16; x *= 0x7feb352dU; x ^= x >> 15; x *= 0x846ca68bU; x ^= x >> 16;
  return x;
}
inline bool dropout_keeps(std::uint32_t seed, std::uint32_t i, float p) {
  const std::uint32_t h = dropout_hash(i * 0x9e3779b9U + dropout_hash(seed));
  return static_cast<float>(h >> 8) * (1.0f / 16777216.0f) >= p;
}

class Backend {
 public:
  virtual ~Backend() = default;

  // Human-readable, e.g. "CPU (OpenBLAS, 2 threads)" or "Vulkan: NVIDIA H100 (discrete GPU)".
  virtual std::string name() const = 0;
  virtual bool is_gpu() const = 0;

  // --- memory ---
  // A new tensor; its contents are undefined (fill it, or use it only as an op's output).
  virtual Tensor empty(const Shape& shape, DType dtype = DType::F32) = 0;
  virtual Tensor upload(std::span<const float> data, const Shape& shape) = 0;
  virtual Tensor upload(std::span<const std::int32_t> data, const Shape& shape) = 0;
  // Like upload, but the backend may keep pointing at `data` instead of copying when `keep_alive` owns it
  // (the CPU backend does this for F32 weights in a memory-mapped checkpoint: no second copy in RAM).
  virtual Tensor adopt(std::span<const float> data, const Shape& shape, std::shared_ptr<const void> keep_alive) {
    return upload(data, shape);
  }
  // Like adopt, for a linear layer's weight (M, K) of a model used only for inference (never trained: no F32
  // master copy is needed): the backend may store it at lower precision (the Vulkan backend's f16 variant,
  // gpu/kernel_variants.h: DType::F16). Such a tensor may be the `weight` of linear and linear_backward_input, and
  // downloaded (as float32); no other op takes it.
  virtual Tensor upload_inference_weight(std::span<const float> data, const Shape& shape,
                                         std::shared_ptr<const void> keep_alive) {
    return adopt(data, shape, std::move(keep_alive));
  }
  virtual void download(const Tensor& tensor, std::span<float> out) = 0;

  // --- ops (shapes: B batch, T tokens, H hidden, A heads, D = H/A, V vocabulary, N rows, K in, M out) ---

  // out (N, H) = word[ids] + position[position_ids] + token_type[type_ids]; the ids: (N) int32 each. Position ids
  // come from the architecture (BERT: 0..T-1; RoBERTa: after the padding index), checked on the host.
  virtual void embed(const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids, const Tensor& word,
                     const Tensor& position, const Tensor& token_type, Tensor& out) = 0;

  // out (N, H) = LayerNorm(x + residual) * gamma + beta, over the last dimension. residual may be null.
  virtual void layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta,
                          float eps, Tensor& out) = 0;

  // out (N, M) = act(x (N, K) * weight (M, K)^T + bias (M)). bias may be null. Weight layout as in PyTorch.
  virtual void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) = 0;

  // Several products of one input, out_i = x · weight_i^T + bias_i (attention's query, key and value), no
  // activation. By default one after another; the CPU backend runs them as one (one parallel region and one copy
  // of x in its kernel's order instead of three).
  struct LinearInto {
    const Tensor* weight;  // (M_i, K)
    const Tensor* bias;    // (M_i), or null
    Tensor* out;           // (N, M_i)
  };
  virtual void linears_of_one_input(const Tensor& x, std::span<const LinearInto> products) {
    for (const LinearInto& p : products) linear(x, *p.weight, p.bias, Activation::None, *p.out);
  }

  // probs (B, A, T, T) = softmax_j(q_i . k_j / sqrt(D)) with keys where mask (B, T) == 0 given probability 0.
  // q, k: (B*T, H) with head a in columns [a*D, (a+1)*D).
  virtual void attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) = 0;

  // context (B*T, H): context[b, i, a*D + c] = sum_j probs[b, a, i, j] * v[b, j, a*D + c].
  virtual void attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) = 0;

  // Inference's attention without the maps: context (B*T, H) as attention_probs, scale_heads (head_scale may be
  // null: every head at 1) and attention_context give it, but without holding all of the (B, A, T, T) maps at once
  // (the CPU backend works through a block of one head's rows at a time). Returns false, doing nothing, where the
  // backend has no such path: the caller then runs those three.
  virtual bool attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, int heads,
                         const Tensor* head_scale, Tensor& context) {
    return false;
  }

  // out (B, A, T, T) = probs * head_scale[a] (or head_scale[b, a]), each head's maps times its factor: Hugging
  // Face's head_mask (1 keeps a head, 0 switches it off). head_scale: (A), or (B, A) for a mask per sentence; F32.
  // out may be probs. Its own backward pass (on the gradients).
  virtual void scale_heads(const Tensor& probs, const Tensor& head_scale, Tensor& out) = 0;

  // out (R, H) = x[rows[r]]; x: (N, H), rows: (R) int32.
  virtual void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) = 0;

  // --- training: backward passes and the optimizer. "+=" marks outputs that accumulate. ---

  // out = act(x), elementwise; out may be x.
  virtual void activate(const Tensor& x, Activation act, Tensor& out) = 0;
  // dx = dy * act'(x), elementwise; x is the activation's input.
  virtual void activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx) = 0;
  // out = a + b, elementwise; out may be a or b.
  virtual void add(const Tensor& a, const Tensor& b, Tensor& out) = 0;
  virtual void fill(Tensor& x, float value) = 0;

  // For out = x weight^T + bias: dx (N, K) = dy (N, M) weight (M, K), or dx += that when `accumulate`.
  virtual void linear_backward_input(const Tensor& dy, const Tensor& weight, bool accumulate, Tensor& dx) = 0;
  // dweight (M, K) += dy^T x (N, K); dbias (M) += column sums of dy. dbias may be null.
  virtual void linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dweight, Tensor* dbias) = 0;

  // For out = LayerNorm(x) * gamma + beta: dx (N, H) from dy (N, H); dgamma, dbeta (H) +=.
  virtual void layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, float eps, Tensor& dx,
                                   Tensor& dgamma, Tensor& dbeta) = 0;

  // For context = probs v (per head): dprobs (B, A, T, T) = dcontext v^T; dv (N, H) = probs^T dcontext.
  virtual void attention_context_backward(const Tensor& probs, const Tensor& v, const Tensor& dcontext, int heads,
                                          Tensor& dprobs, Tensor& dv) = 0;
  // For probs = softmax(q k^T / sqrt(D)) (masked keys have probs 0): dq, dk (N, H) from dprobs (B, A, T, T).
  // dprobs is overwritten with the gradient of the scores.
  virtual void attention_probs_backward(const Tensor& q, const Tensor& k, const Tensor& probs, Tensor& dprobs,
                                        int heads, Tensor& dq, Tensor& dk) = 0;

  // dword[ids[n]] += dy[n], dposition[position_ids[n]] += dy[n], dtoken_type[type_ids[n]] += dy[n]; dy: (N, H).
  virtual void embed_backward(const Tensor& dy, const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids,
                              Tensor& dword, Tensor& dposition, Tensor& dtoken_type) = 0;
  // dx[rows[r]] += dy[r]: the backward of gather_rows. The rows must be distinct.
  virtual void scatter_add_rows(const Tensor& dy, const Tensor& rows, Tensor& dx) = 0;

  // Inverted dropout: out[i] = dropout_keeps(seed, i, p) ? x[i] / (1 - p) : 0. With the same seed it is also its
  // own backward pass. out may be x.
  virtual void dropout(const Tensor& x, float p, std::uint32_t seed, Tensor& out) = 0;

  // Softmax cross-entropy per row of logits (N, C) against labels (N) int32; rows labelled < 0 are ignored
  // (loss and gradient 0, as Hugging Face's -100). losses (N); dlogits (N, C) = (softmax - onehot) * scale.
  virtual void cross_entropy(const Tensor& logits, const Tensor& labels, float scale, Tensor& losses,
                             Tensor& dlogits) = 0;

  // sums[slot] = sum of x^2 over all elements (sums: F32, at least slot + 1 elements); for gradient clipping.
  virtual void sum_squares(const Tensor& x, Tensor& sums, int slot) = 0;
  // One AdamW step on param with its grad and moment estimates m, v (all the same shape).
  virtual void adamw(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& step) = 0;
};

}  // namespace bertscope
