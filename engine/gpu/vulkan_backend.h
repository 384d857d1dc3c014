#pragma once
// VulkanBackend: the Backend ops as compute-shader dispatches recorded into one command buffer. Barriers are
// inserted only where a dispatch touches a buffer that an earlier, not yet barriered dispatch wrote (read-after-
// write, write-after-write) or read (write-after-read). `download` submits, waits, and reads back.
// Tensors freed while commands are pending are destroyed after the next submission completes.
// Faults can be injected for tests (BERTSCOPE_FAULT_INJECT, see gpu/fault_injection.h). One thread at a time.
#include <map>
#include <memory>
#include <unordered_set>
#include <vector>

#include "core/backend.h"
#include "gpu/buffer.h"
#include "gpu/fault_injection.h"
#include "gpu/kernel.h"
#include "gpu/vulkan_context.h"

namespace bertscope::gpu {

// A hash of every kernel's SPIR-V and interface (16 hex digits): a self-check verdict holds for these kernels only.
std::string kernel_fingerprint();

class VulkanBackend final : public Backend {
 public:
  VulkanBackend(int device_index = -1, bool validation = false);
  ~VulkanBackend() override;

  std::string name() const override;
  bool is_gpu() const override { return true; }
  const VulkanContext& context() const { return *ctx_; }
  const KernelVariants& kernel_variants() const { return variants_; }  // chosen for this device (kernel_variants.h)

  Tensor empty(const Shape& shape, DType dtype = DType::F32) override;
  Tensor upload(std::span<const float> data, const Shape& shape) override;
  Tensor upload(std::span<const std::int32_t> data, const Shape& shape) override;
  // F16 (DType::F16) with the f16 variant, else F32 (gpu/kernel_variants.h).
  Tensor upload_inference_weight(std::span<const float> data, const Shape& shape,
                                 std::shared_ptr<const void> keep_alive) override;
  void download(const Tensor& tensor, std::span<float> out) override;

  void embed(const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids, const Tensor& word,
             const Tensor& position, const Tensor& token_type, Tensor& out) override;
  void layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta, float eps,
                  Tensor& out) override;
  void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) override;
  void attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) override;
  void attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) override;
  void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) override;
  void scale_heads(const Tensor& probs, const Tensor& head_scale, Tensor& out) override;

  // Training ops: vulkan_training_ops.cpp.
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

  // Submits everything recorded and waits for it.
  void flush();
  // Called by a tensor's storage when it is destroyed.
  void retire(Buffer&& buffer);
  int barrier_count() const { return barriers_; }
  int dispatch_count() const { return dispatches_; }
  int submission_count() const { return submissions_; }
  // Bytes of GPU memory held by live tensors (a model's weights, when counted right after loading it).
  std::int64_t tensor_bytes() const { return tensor_bytes_; }
  void count_tensor_bytes(std::int64_t delta) { tensor_bytes_ += delta; }  // by a tensor's storage
  const FaultInjection& faults() const { return faults_; }

 private:
  Tensor make_tensor(const Shape& shape, DType dtype);
  void write_bytes(const Tensor& t, const void* data, std::size_t bytes);
  VkCommandBuffer commands();
  // Inserts a barrier when this command's buffers conflict with unbarriered earlier commands.
  void track(const std::vector<VkBuffer>& reads, const std::vector<VkBuffer>& writes);
  void dispatch(const Kernel& kernel, std::initializer_list<const Tensor*> buffers, const void* push,
                std::uint32_t push_bytes, std::uint32_t gx, std::uint32_t gy = 1, std::uint32_t gz = 1);
  std::uint32_t groups_for(std::int64_t items, std::uint32_t workgroup) const;

  // C = op(A) op(B) (+ C), batched: the matmul kernel's push constants (see shaders/matmul.comp).
  struct Gemm {
    std::uint32_t m, n, k, lda, ldb, ldc;
    std::uint32_t trans_a, trans_b, accumulate, inner_count;
    std::uint32_t a_outer, a_inner, b_outer, b_inner, c_outer, c_inner;
  };
  void gemm(const Tensor& a, const Tensor& b, Tensor& c, const Gemm& g, std::uint32_t batches);
  void elementwise(const Tensor& a, const Tensor& b, Tensor& out, std::uint32_t op, Activation act, float value,
                   std::uint32_t seed, float p);
  void column_sums(const Tensor& a, const Tensor* b, Tensor& out);
  // Fault injection: overwrites the first element of each buffer the kernel just wrote (after a barrier).
  void perturb(const std::vector<VkBuffer>& written);

  std::unique_ptr<VulkanContext> ctx_;
  std::map<std::string, std::unique_ptr<Kernel>> kernels_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  bool recording_ = false;
  std::unordered_set<VkBuffer> written_, read_;  // since the last barrier
  std::vector<Buffer> retired_;                  // destroyed after the next completed submission
  int barriers_ = 0, dispatches_ = 0, submissions_ = 0;
  std::int64_t tensor_bytes_ = 0;
  KernelVariants variants_;
  FaultInjection faults_;
};

}  // namespace bertscope::gpu
