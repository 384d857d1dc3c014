#pragma once
// CpuBackend: the reference implementation of every op. Plain loops that read like the maths, OpenBLAS sgemm for
// matrix products, OpenMP over rows. Every Vulkan kernel is tested against it.
#include "core/backend.h"

namespace bertscope {

class CpuBackend final : public Backend {
 public:
  CpuBackend();
  std::string name() const override;
  bool is_gpu() const override { return false; }

  Tensor empty(const Shape& shape, DType dtype = DType::F32) override;
  Tensor upload(std::span<const float> data, const Shape& shape) override;
  Tensor upload(std::span<const std::int32_t> data, const Shape& shape) override;
  Tensor adopt(std::span<const float> data, const Shape& shape, std::shared_ptr<const void> keep_alive) override;
  void download(const Tensor& tensor, std::span<float> out) override;

  void embed(const Tensor& ids, const Tensor& type_ids, const Tensor& word, const Tensor& position,
             const Tensor& token_type, int seq_len, Tensor& out) override;
  void layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta, float eps,
                  Tensor& out) override;
  void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) override;
  void attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) override;
  void attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) override;
  void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) override;

  // Direct host access, for the CPU-side code paths (and tests).
  static const float* f32(const Tensor& t);
  static float* f32_mut(Tensor& t);
  static const std::int32_t* i32(const Tensor& t);
};

}  // namespace bertscope
