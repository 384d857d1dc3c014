#pragma once
// CpuBackend: the reference implementation of every op. Plain loops that read like the maths, OpenBLAS sgemm for
// matrix products, OpenMP over rows. Every Vulkan kernel is tested against it.
#include "core/backend.h"

#include <vector>

namespace bertscope {

class BufferPool;

// x = act(x) for n values, in place: GELU through the vectorized erf (vector_math.h), the others one by one. The
// forward activation of both `linear` (fused after its bias) and `activate` (cpu_training_ops.cpp).
void activate_in_place(float* x, std::int64_t n, Activation act);
// The same on `rows` rows of `cols` values, `stride` apart (the packed kernel's columns of its output), GELU in one
// call rather than one a row.
void activate_rows(float* y, std::int64_t rows, std::int64_t stride, std::int64_t cols, Activation act);

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  ~CpuBackend() override;
  std::string name() const override;
  bool is_gpu() const override { return false; }

  Tensor empty(const Shape& shape, DType dtype = DType::F32) override;
  Tensor upload(std::span<const float> data, const Shape& shape) override;
  Tensor upload(std::span<const std::int32_t> data, const Shape& shape) override;
  Tensor adopt(std::span<const float> data, const Shape& shape, std::shared_ptr<const void> keep_alive) override;
  // Packs the weight once for packed_linear (where the CPU has AVX2 or AVX-512), see packed_linear.h.
  Tensor upload_inference_weight(std::span<const float> data, const Shape& shape,
                                 std::shared_ptr<const void> keep_alive) override;
  void download(const Tensor& tensor, std::span<float> out) override;

  void embed(const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids, const Tensor& word,
             const Tensor& position, const Tensor& token_type, Tensor& out) override;
  void layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta, float eps,
                  Tensor& out) override;
  void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) override;
  void linears_of_one_input(const Tensor& x, std::span<const LinearInto> products) override;
  void attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) override;
  void attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) override;
  bool attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, int heads,
                 const Tensor* head_scale, Tensor& context) override;
  void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) override;
  void scale_heads(const Tensor& probs, const Tensor& head_scale, Tensor& out) override;

  // Training ops: cpu_training_ops.cpp.
  void activate(const Tensor& x, Activation act, Tensor& out) override;
  void activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx) override;
  void add(const Tensor& a, const Tensor& b, Tensor& out) override;
  void fill(Tensor& x, float value) override;
  void linear_backward_input(const Tensor& dy, const Tensor& weight, bool accumulate, Tensor& dx) override;
  void linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dweight, Tensor* dbias) override;
  void layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, float eps, Tensor& dx,
                           Tensor& dgamma, Tensor& dbeta) override;
  void attention_context_backward(const Tensor& probs, const Tensor& v, const Tensor& dcontext, int heads,
                                  Tensor& dprobs, Tensor& dv) override;
  void attention_probs_backward(const Tensor& q, const Tensor& k, const Tensor& probs, Tensor& dprobs, int heads,
                                Tensor& dq, Tensor& dk) override;
  void embed_backward(const Tensor& dy, const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids,
                      Tensor& dword, Tensor& dposition, Tensor& dtoken_type) override;
  void scatter_add_rows(const Tensor& dy, const Tensor& rows, Tensor& dx) override;
  void dropout(const Tensor& x, float p, std::uint32_t seed, Tensor& out) override;
  void cross_entropy(const Tensor& logits, const Tensor& labels, float scale, Tensor& losses, Tensor& dlogits) override;
  void sum_squares(const Tensor& x, Tensor& sums, int slot) override;
  void adamw(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& step) override;

  // Direct host access, for the CPU-side code paths (and tests).
  static const float* f32(const Tensor& t);
  static float* f32_mut(Tensor& t);
  static const std::int32_t* i32(const Tensor& t);
  // A linear weight (M, K) row-major: the tensor's own memory or, for an inference weight kept only in
  // packed_linear's layout, an unpacked copy made in `copy`.
  static const float* weight_rows(const Tensor& w, std::vector<float>& copy);

 private:
  std::shared_ptr<BufferPool> pool_;  // shared with the storages, which may outlive the backend
};

}  // namespace bertscope
