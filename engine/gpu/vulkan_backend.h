#pragma once
// VulkanBackend: the Backend ops as compute-shader dispatches recorded into one command buffer. Barriers are
// inserted only where a dispatch touches a buffer that an earlier, not yet barriered dispatch wrote (read-after-
// write, write-after-write) or read (write-after-read). `download` submits, waits, and reads back.
// Tensors freed while commands are pending are destroyed after the next submission completes.
// One thread at a time.
#include <map>
#include <memory>
#include <unordered_set>
#include <vector>

#include "core/backend.h"
#include "gpu/buffer.h"
#include "gpu/kernel.h"
#include "gpu/vulkan_context.h"

namespace bertscope::gpu {

class VulkanBackend final : public Backend {
 public:
  VulkanBackend(int device_index = -1, bool validation = false);
  ~VulkanBackend() override;

  std::string name() const override;
  bool is_gpu() const override { return true; }
  const VulkanContext& context() const { return *ctx_; }

  Tensor empty(const Shape& shape, DType dtype = DType::F32) override;
  Tensor upload(std::span<const float> data, const Shape& shape) override;
  Tensor upload(std::span<const std::int32_t> data, const Shape& shape) override;
  void download(const Tensor& tensor, std::span<float> out) override;

  void embed(const Tensor& ids, const Tensor& type_ids, const Tensor& word, const Tensor& position,
             const Tensor& token_type, int seq_len, Tensor& out) override;
  void layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta, float eps,
                  Tensor& out) override;
  void linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) override;
  void attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) override;
  void attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) override;
  void gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) override;

  // Submits everything recorded and waits for it.
  void flush();
  // Called by a tensor's storage when it is destroyed.
  void retire(Buffer&& buffer);
  int barrier_count() const { return barriers_; }
  int dispatch_count() const { return dispatches_; }

 private:
  Tensor make_tensor(const Shape& shape, DType dtype);
  void write_bytes(const Tensor& t, const void* data, std::size_t bytes);
  VkCommandBuffer commands();
  // Inserts a barrier when this command's buffers conflict with unbarriered earlier commands.
  void track(const std::vector<VkBuffer>& reads, const std::vector<VkBuffer>& writes);
  void dispatch(const Kernel& kernel, std::initializer_list<const Tensor*> buffers, const void* push,
                std::uint32_t push_bytes, std::uint32_t gx, std::uint32_t gy = 1, std::uint32_t gz = 1);
  std::uint32_t groups_for(std::int64_t items, std::uint32_t workgroup) const;

  std::unique_ptr<VulkanContext> ctx_;
  std::map<std::string, std::unique_ptr<Kernel>> kernels_;
  VkCommandBuffer cmd_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  bool recording_ = false;
  std::unordered_set<VkBuffer> written_, read_;  // since the last barrier
  std::vector<Buffer> retired_;                  // destroyed after the next completed submission
  int barriers_ = 0, dispatches_ = 0;
};

}  // namespace bertscope::gpu
