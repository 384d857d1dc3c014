#include "gpu/vulkan_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "gpu/shader_registry.h"
#include "model/tensor_file.h"  // float_to_half, half_to_float

namespace bertscope::gpu {

namespace {

struct VulkanStorage final : TensorStorage {
  VulkanStorage(VulkanBackend& owner, Buffer&& b) : backend(&owner), buffer(std::move(b)) {
    backend->count_tensor_bytes(static_cast<std::int64_t>(buffer.size()));
  }
  ~VulkanStorage() override {
    backend->count_tensor_bytes(-static_cast<std::int64_t>(buffer.size()));
    backend->retire(std::move(buffer));
  }
  VulkanBackend* backend;
  Buffer buffer;
};

VkBuffer handle(const Tensor& t) {
  auto* s = dynamic_cast<VulkanStorage*>(t.storage());
  if (!s) throw Error("internal: tensor does not belong to the Vulkan backend");
  return s->buffer.handle();
}

const Buffer& buffer_of(const Tensor& t) { return static_cast<VulkanStorage*>(t.storage())->buffer; }

void require(bool ok, const char* what) {
  if (!ok) throw Error(std::string("internal: shape mismatch in Vulkan op ") + what);
}

constexpr std::uint32_t kWide = 256;    // elementwise kernels
constexpr std::uint32_t kRow = 128;     // one-workgroup-per-row kernels (<= 256: their shared arrays)

const KernelSpec kSpecs[] = {
    // name, buffers, written bindings, push bytes, workgroup
    {"embed", 7, 1u << 6, 8, kWide},
    {"layer_norm", 5, 1u << 4, 16, kRow},
    {"linear", 4, 1u << 3, 20, 0, /*tiled=*/true},
    {"attention_probs", 4, 1u << 3, 16, kRow},
    {"attention_context", 3, 1u << 2, 16, kWide},
    {"gather_rows", 3, 1u << 2, 8, kWide},
    {"scale_heads", 3, 1u << 2, 12, kWide},
    // training (vulkan_training_ops.cpp)
    {"matmul", 3, 1u << 2, 64, 0},
    {"elementwise", 3, 1u << 2, 24, kWide},
    {"layer_norm_backward", 5, (1u << 3) | (1u << 4), 12, kRow},
    {"column_sums", 3, 1u << 2, 12, kWide},
    {"softmax_backward", 2, 1u << 1, 12, kRow},
    {"embed_backward", 7, (1u << 4) | (1u << 5) | (1u << 6), 8, kWide},
    {"scatter_add_rows", 3, 1u << 2, 8, kWide},
    {"cross_entropy", 4, (1u << 2) | (1u << 3), 12, kRow},
    {"sum_squares", 2, 1u << 1, 8, kWide},
    {"adamw", 4, 1u | (1u << 2) | (1u << 3), 36, kWide},
};

// The f16 variant's kernels (gpu/kernel_variants.h), built only where the device has 16-bit storage: their SPIR-V
// declares it. linear_f16 is `linear` with the weight (binding 1) stored as F16.
const KernelSpec kF16Specs[] = {
    {"linear_f16", 4, 1u << 3, 20, 0, /*tiled=*/true, /*f16_mask=*/1u << 1},
    {"widen_f16", 2, 1u << 1, 4, kWide, false, /*f16_mask=*/1u},
};

// Bytes a tensor of `count` elements takes: F16 two each (rounded up to whole 4-byte words), F32 and I32 four.
VkDeviceSize storage_bytes(std::int64_t count, DType dtype) {
  if (dtype == DType::F16) return static_cast<VkDeviceSize>((count * 2 + 3) / 4 * 4);
  return static_cast<VkDeviceSize>(count) * 4;
}

}  // namespace

std::string kernel_fingerprint() {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  auto mix = [&](std::uint32_t word) {
    for (int i = 0; i < 4; ++i) h = (h ^ ((word >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
  };
  std::vector<KernelSpec> specs(std::begin(kSpecs), std::end(kSpecs));
  specs.insert(specs.end(), std::begin(kF16Specs), std::end(kF16Specs));
  for (const KernelSpec& spec : specs) {
    for (const char* c = spec.name; *c; ++c) mix(static_cast<unsigned char>(*c));
    for (std::uint32_t v : {spec.buffers, spec.write_mask, spec.push_bytes, spec.workgroup, std::uint32_t(spec.tiled),
                            spec.f16_mask})
      mix(v);
    for (std::uint32_t word : shader_spirv(spec.name)) mix(word);
    for (std::uint32_t word : shader_spirv(std::string(spec.name) + "_subgroups")) mix(word);
  }
  // A forced variant (BERTSCOPE_VK_VARIANTS) runs other code than the device's own choice: its own verdict.
  if (const char* forced = std::getenv("BERTSCOPE_VK_VARIANTS"))
    for (const char* c = forced; *c; ++c) mix(static_cast<unsigned char>(*c));
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

VulkanBackend::VulkanBackend(int device_index, bool validation)
    : ctx_(std::make_unique<VulkanContext>(device_index, validation)) {
  if (ctx_->limits().maxComputeWorkGroupInvocations < 256)
    throw Error("Vulkan device '" + ctx_->info().name + "' allows fewer than 256 threads per workgroup");
  variants_ = choose_kernel_variants(*ctx_);
  for (const KernelSpec& spec : kSpecs) kernels_[spec.name] = std::make_unique<Kernel>(*ctx_, spec, variants_);
  if (variants_.f16)
    for (const KernelSpec& spec : kF16Specs) kernels_[spec.name] = std::make_unique<Kernel>(*ctx_, spec, variants_);
  faults_ = FaultInjection::from_environment();
  if (!faults_.perturb_kernel.empty() && !kernels_.count(faults_.perturb_kernel)) {
    std::string names;
    for (const auto& [name, kernel] : kernels_) names += (names.empty() ? "" : ", ") + name;
    throw Error("BERTSCOPE_FAULT_INJECT: there is no kernel named '" + faults_.perturb_kernel + "' (kernels: " + names + ")");
  }
  VkCommandBufferAllocateInfo ai{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  ai.commandPool = ctx_->command_pool();
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  check(vkAllocateCommandBuffers(ctx_->device(), &ai, &cmd_), "vkAllocateCommandBuffers");
  VkFenceCreateInfo fi{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  check(vkCreateFence(ctx_->device(), &fi, nullptr, &fence_), "vkCreateFence");
}

VulkanBackend::~VulkanBackend() {
  try {
    flush();
  } catch (...) {  // device lost: nothing more to wait for
  }
  vkDeviceWaitIdle(ctx_->device());
  retired_.clear();
  kernels_.clear();
  if (fence_) vkDestroyFence(ctx_->device(), fence_, nullptr);
  if (cmd_) vkFreeCommandBuffers(ctx_->device(), ctx_->command_pool(), 1, &cmd_);
}

std::string VulkanBackend::name() const {
  std::string n = "Vulkan: " + ctx_->info().name + " (" + ctx_->info().type + ")";
  if (faults_.active()) n += " [faults injected: " + faults_.describe() + "]";
  return n;
}

void VulkanBackend::retire(Buffer&& buffer) {
  if (recording_) retired_.push_back(std::move(buffer));
  // else: nothing pending can use it; `buffer` is destroyed by the caller's storage right away
  else { Buffer dying(std::move(buffer)); }
}

Tensor VulkanBackend::make_tensor(const Shape& shape, DType dtype) {
  const VkDeviceSize bytes = storage_bytes(element_count(shape), dtype);
  return Tensor(std::make_unique<VulkanStorage>(*this, Buffer(*ctx_, bytes, MemoryUse::Device)), shape, dtype);
}

Tensor VulkanBackend::empty(const Shape& shape, DType dtype) { return make_tensor(shape, dtype); }

void VulkanBackend::write_bytes(const Tensor& t, const void* data, std::size_t bytes) {
  const Buffer& dst = buffer_of(t);
  if (dst.mapped()) {  // a fresh buffer no recorded command uses yet: write it directly
    std::memcpy(dst.mapped(), data, bytes);
    return;
  }
  Buffer staging(*ctx_, bytes, MemoryUse::Staging);
  std::memcpy(staging.mapped(), data, bytes);
  track({}, {dst.handle()});
  VkBufferCopy region{0, 0, bytes};
  vkCmdCopyBuffer(commands(), staging.handle(), dst.handle(), 1, &region);
  retired_.push_back(std::move(staging));
}

Tensor VulkanBackend::upload(std::span<const float> data, const Shape& shape) {
  require(static_cast<std::int64_t>(data.size()) == element_count(shape), "upload");
  Tensor t = make_tensor(shape, DType::F32);
  write_bytes(t, data.data(), data.size_bytes());
  return t;
}

Tensor VulkanBackend::upload_inference_weight(std::span<const float> data, const Shape& shape,
                                              std::shared_ptr<const void>) {
  if (!variants_.f16) return upload(data, shape);
  require(static_cast<std::int64_t>(data.size()) == element_count(shape), "upload_inference_weight");
  std::vector<std::uint16_t> halves(data.size());  // round to nearest even, as PyTorch's .half()
  for (std::size_t i = 0; i < data.size(); ++i) halves[i] = float_to_half(data[i]);
  Tensor t = make_tensor(shape, DType::F16);
  write_bytes(t, halves.data(), halves.size() * sizeof(std::uint16_t));
  return t;
}

Tensor VulkanBackend::upload(std::span<const std::int32_t> data, const Shape& shape) {
  require(static_cast<std::int64_t>(data.size()) == element_count(shape), "upload");
  Tensor t = make_tensor(shape, DType::I32);
  write_bytes(t, data.data(), data.size_bytes());
  return t;
}

void VulkanBackend::download(const Tensor& t, std::span<float> out) {
  require(static_cast<std::int64_t>(out.size()) == t.numel(), "download");
  const Buffer& src = buffer_of(t);
  const std::size_t bytes = t.dtype() == DType::F16 ? out.size() * 2 : out.size() * 4;
  const void* host = src.mapped();
  std::unique_ptr<Buffer> staging;
  if (!host) {
    staging = std::make_unique<Buffer>(*ctx_, bytes, MemoryUse::Staging);
    track({src.handle()}, {staging->handle()});
    VkBufferCopy region{0, 0, bytes};
    vkCmdCopyBuffer(commands(), src.handle(), staging->handle(), 1, &region);
    host = staging->mapped();
  }
  flush();
  if (t.dtype() == DType::F32) {
    std::memcpy(out.data(), host, bytes);
  } else if (t.dtype() == DType::F16) {
    const auto* halves = static_cast<const std::uint16_t*>(host);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = half_to_float(halves[i]);
  } else {
    const auto* ints = static_cast<const std::int32_t*>(host);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(ints[i]);
  }
}

VkCommandBuffer VulkanBackend::commands() {
  if (!recording_) {
    VkCommandBufferBeginInfo bi{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    check(vkBeginCommandBuffer(cmd_, &bi), "vkBeginCommandBuffer");
    recording_ = true;
  }
  return cmd_;
}

void VulkanBackend::track(const std::vector<VkBuffer>& reads, const std::vector<VkBuffer>& writes) {
  bool hazard = false;
  for (VkBuffer b : reads) hazard |= written_.count(b) > 0;                          // read after write
  for (VkBuffer b : writes) hazard |= written_.count(b) > 0 || read_.count(b) > 0;  // write after write / read
  if (hazard) {
    // Earlier shader or transfer writes must land before this command reads or overwrites them.
    VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                       VK_ACCESS_TRANSFER_WRITE_BIT;
    const VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    vkCmdPipelineBarrier(commands(), stages, stages, 0, 1, &mb, 0, nullptr, 0, nullptr);
    written_.clear();
    read_.clear();
    ++barriers_;
  }
  for (VkBuffer b : reads) read_.insert(b);
  for (VkBuffer b : writes) written_.insert(b);
}

void VulkanBackend::flush() {
  if (!recording_) return;
  // Make every shader and transfer write visible to the host before we read mapped memory.
  VkMemoryBarrier mb{VK_STRUCTURE_TYPE_MEMORY_BARRIER};
  mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
  vkCmdPipelineBarrier(cmd_, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                       VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0, nullptr);
  recording_ = false;
  written_.clear();
  read_.clear();
  check(vkEndCommandBuffer(cmd_), "vkEndCommandBuffer");
  if (const VkResult injected = faults_.submission_result(submissions_++); injected != VK_SUCCESS) {
    // As if the driver refused the submission: nothing ran, so nothing pending needs the retired buffers.
    vkResetCommandBuffer(cmd_, 0);
    retired_.clear();
    check(injected, "vkQueueSubmit");
  }
  VkSubmitInfo si{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  si.commandBufferCount = 1;
  si.pCommandBuffers = &cmd_;
  check(vkQueueSubmit(ctx_->queue(), 1, &si, fence_), "vkQueueSubmit");
  VkResult r = vkWaitForFences(ctx_->device(), 1, &fence_, VK_TRUE, UINT64_MAX);
  vkResetFences(ctx_->device(), 1, &fence_);
  vkResetCommandBuffer(cmd_, 0);
  retired_.clear();
  check(r, "vkWaitForFences");
}

std::uint32_t VulkanBackend::groups_for(std::int64_t items, std::uint32_t workgroup) const {
  const std::int64_t groups = (items + workgroup - 1) / workgroup;
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(groups, 1, 65535));  // kernels stride beyond this
}

void VulkanBackend::dispatch(const Kernel& kernel, std::initializer_list<const Tensor*> tensors, const void* push,
                             std::uint32_t push_bytes, std::uint32_t gx, std::uint32_t gy, std::uint32_t gz) {
  const KernelSpec& spec = kernel.spec();
  if (tensors.size() != spec.buffers || push_bytes != spec.push_bytes)
    throw Error(std::string("internal: dispatch of ") + spec.name + " does not match its declared interface");
  std::vector<VkDescriptorBufferInfo> infos;
  std::vector<VkBuffer> reads, writes;
  std::uint32_t i = 0;
  for (const Tensor* t : tensors) {
    if ((t->dtype() == DType::F16) != (((spec.f16_mask >> i) & 1) != 0))
      throw Error(std::string("internal: ") + spec.name + "'s binding " + std::to_string(i) +
                  (t->dtype() == DType::F16 ? " got an F16 tensor" : " needs an F16 tensor"));
    const VkBuffer b = handle(*t);
    infos.push_back({b, 0, VK_WHOLE_SIZE});
    ((spec.write_mask >> i) & 1 ? writes : reads).push_back(b);
    ++i;
  }
  track(reads, writes);

  std::vector<VkWriteDescriptorSet> sets(infos.size());
  for (std::uint32_t j = 0; j < infos.size(); ++j) {
    sets[j] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    sets[j].dstBinding = j;
    sets[j].descriptorCount = 1;
    sets[j].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    sets[j].pBufferInfo = &infos[j];
  }
  VkCommandBuffer cmd = commands();
  vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.pipeline());
  ctx_->push_descriptor_fn()(cmd, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout(), 0,
                             static_cast<std::uint32_t>(sets.size()), sets.data());
  if (push_bytes) vkCmdPushConstants(cmd, kernel.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);
  vkCmdDispatch(cmd, gx, gy, gz);
  ++dispatches_;
  if (spec.name == faults_.perturb_kernel) perturb(writes);
}

void VulkanBackend::perturb(const std::vector<VkBuffer>& written) {
  std::uint32_t bits;
  std::memcpy(&bits, &FaultInjection::kPerturbedValue, 4);
  for (VkBuffer b : written) {
    track({}, {b});  // after the kernel's own write (a barrier)
    vkCmdFillBuffer(commands(), b, 0, 4, bits);
  }
}

// ---- ops ----

void VulkanBackend::embed(const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids, const Tensor& word,
                          const Tensor& position, const Tensor& token_type, Tensor& out) {
  const std::int64_t rows = ids.numel(), H = word.dim(1);
  require(out.dim(0) == rows && out.dim(1) == H && type_ids.numel() == rows && position_ids.numel() == rows, "embed");
  struct { std::uint32_t rows, hidden; } push{std::uint32_t(rows), std::uint32_t(H)};
  dispatch(*kernels_["embed"], {&ids, &position_ids, &type_ids, &word, &position, &token_type, &out}, &push, sizeof push,
           groups_for(rows * H, kWide));
}

void VulkanBackend::layer_norm(const Tensor& x, const Tensor* residual, const Tensor& gamma, const Tensor& beta,
                               float eps, Tensor& out) {
  const std::int64_t N = x.dim(0), H = x.dim(1);
  require(out.numel() == x.numel() && gamma.numel() == H && (!residual || residual->numel() == x.numel()),
          "layer_norm");
  struct { std::uint32_t rows, hidden, has_residual; float eps; } push{std::uint32_t(N), std::uint32_t(H),
                                                                        residual ? 1u : 0u, eps};
  // Without a residual, x is bound twice (the shader never reads binding 1 then).
  dispatch(*kernels_["layer_norm"], {&x, residual ? residual : &x, &gamma, &beta, &out}, &push, sizeof push,
           groups_for(N, 1));
}

void VulkanBackend::linear(const Tensor& x, const Tensor& weight, const Tensor* bias, Activation act, Tensor& out) {
  const std::int64_t N = x.dim(0), K = x.dim(1), M = weight.dim(0);
  require(weight.dim(1) == K && out.dim(0) == N && out.dim(1) == M && (!bias || bias->numel() == M), "linear");
  struct { std::uint32_t n, k, m, has_bias; std::int32_t act; } push{std::uint32_t(N), std::uint32_t(K),
                                                                      std::uint32_t(M), bias ? 1u : 0u,
                                                                      static_cast<std::int32_t>(act)};
  const std::int64_t tile = variants_.linear_tile;
  const std::uint32_t tiles_m = static_cast<std::uint32_t>((M + tile - 1) / tile), tiles_n = static_cast<std::uint32_t>((N + tile - 1) / tile);
  if (tiles_n > 65535 || tiles_m > 65535) throw Error("linear: matrix too large for one dispatch");
  // An F16 weight (the f16 variant) has its own kernel; without a bias, x is bound in its place (never read).
  const bool f16 = weight.dtype() == DType::F16;
  dispatch(*kernels_[f16 ? "linear_f16" : "linear"], {&x, &weight, bias ? bias : &x, &out}, &push, sizeof push,
           tiles_m, tiles_n);
}

void VulkanBackend::attention_probs(const Tensor& q, const Tensor& k, const Tensor& mask, int heads, Tensor& probs) {
  const std::int64_t B = mask.dim(0), T = mask.dim(1), H = q.dim(1), D = H / heads;
  require(q.dim(0) == B * T && k.numel() == q.numel() && probs.numel() == B * heads * T * T, "attention_probs");
  if (D > 256) throw Error("attention head size " + std::to_string(D) + " is over the Vulkan kernel's limit of 256");
  if (B > 65535 || T > 65535) throw Error("attention: batch or sequence too large for one dispatch");
  struct { std::uint32_t seq, hidden, heads; float scale; } push{std::uint32_t(T), std::uint32_t(H),
                                                                  std::uint32_t(heads), 1.0f / std::sqrt(float(D))};
  dispatch(*kernels_["attention_probs"], {&q, &k, &mask, &probs}, &push, sizeof push, std::uint32_t(T),
           std::uint32_t(heads), std::uint32_t(B));
}

void VulkanBackend::attention_context(const Tensor& probs, const Tensor& v, int heads, Tensor& context) {
  const std::int64_t H = v.dim(1), T = probs.dim(3), B = probs.dim(0);
  require(v.dim(0) == B * T && context.numel() == v.numel(), "attention_context");
  struct { std::uint32_t batch, seq, hidden, heads; } push{std::uint32_t(B), std::uint32_t(T), std::uint32_t(H),
                                                           std::uint32_t(heads)};
  dispatch(*kernels_["attention_context"], {&probs, &v, &context}, &push, sizeof push, groups_for(B * T * H, kWide));
}

void VulkanBackend::scale_heads(const Tensor& probs, const Tensor& head_scale, Tensor& out) {
  const std::int64_t A = probs.dim(1), map = probs.dim(2) * probs.dim(3), S = head_scale.numel();  // S: A or B * A
  require((S == A || S == probs.dim(0) * A) && out.numel() == probs.numel(), "scale_heads");
  struct { std::uint32_t count, map, scales; } push{std::uint32_t(probs.numel()), std::uint32_t(map), std::uint32_t(S)};
  dispatch(*kernels_["scale_heads"], {&probs, &head_scale, &out}, &push, sizeof push, groups_for(probs.numel(), kWide));
}

void VulkanBackend::gather_rows(const Tensor& x, const Tensor& rows, Tensor& out) {
  const std::int64_t H = x.dim(1), R = rows.numel();
  require(out.dim(0) == R && out.dim(1) == H, "gather_rows");
  struct { std::uint32_t count, hidden; } push{std::uint32_t(R), std::uint32_t(H)};
  dispatch(*kernels_["gather_rows"], {&x, &rows, &out}, &push, sizeof push, groups_for(R * H, kWide));
}

}  // namespace bertscope::gpu
