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

enum class Activation : std::int32_t { None = 0, Gelu = 1, Tanh = 2 };

class Backend {
 public:
  virtual ~Backend() = default;

  // Human-readable, e.g. "CPU (OpenBLAS, 2 threads)" or "Vulkan: NVIDIA H100 (discrete GPU)".
  virtual std::string name() const = 0;
  virtual bool is_gpu() const = 0;

  // --- memory ---
  virtual Tensor empty(const Shape& shape, DType dtype = DType::F32) = 0;
  virtual Tensor upload(std::span<const float> data, const Shape& shape) = 0;
  virtual Tensor upload(std::span<const std::int32_t> data, const Shape& shape) = 0;
  // Like upload, but the backend may keep pointing at `data` instead of copying when `keep_alive` owns it
  // (the CPU backend does this for F32 weights in a memory-mapped checkpoint: no second copy in RAM).
  virtual Tensor adopt(std::span<const float> data, const Shape& shape, std::shared_ptr<const void> keep_alive) {
    return upload(data, shape);
  }
  virtual void download(const Tensor& tensor, std::span<float> out) = 0;

  // --- ops (shapes: B batch, T tokens, H hidden, A heads, D = H/A, V vocabulary, N rows, K in, M out) ---

  // out (B*T, H) = word[ids] + position[t] + token_type[type_ids]; ids, type_ids: (B*T) int32.
  virtual void embed(const Tensor& ids, const Tensor& type_ids, const Tensor& word, const Tensor& position,
                     const Tensor& token_type, int seq_len, Tensor& out) = 0;

  // out (N, H) = LayerNorm(x + residual) * gamma + beta, over the last dimension. residual may be null.
  virtual void layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta,
                          float eps, Tensor& out) = 0;

  // out (N, M) = act(x (N, K) * weight (M, K)^T + bias (M)). bias may be null. Weight layout as in PyTorch.
  virtual void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) = 0;

  // probs (B, A, T, T) = softmax_j(q_i . k_j / sqrt(D)) with keys where mask (B, T) == 0 given probability 0.
  // q, k: (B*T, H) with head a in columns [a*D, (a+1)*D).
  virtual void attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) = 0;

  // context (B*T, H): context[b, i, a*D + c] = sum_j probs[b, a, i, j] * v[b, j, a*D + c].
  virtual void attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) = 0;

  // out (R, H) = x[rows[r]]; x: (N, H), rows: (R) int32.
  virtual void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) = 0;
};

}  // namespace bertscope
