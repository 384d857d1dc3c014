// The Vulkan backend's training ops: backward passes and AdamW as compute dispatches. Each mirrors the CPU
// reference in cpu/cpu_training_ops.cpp and is tested against it (tests/test_training.cpp).
#include <cmath>

#include "core/error.h"
#include "gpu/vulkan_backend.h"

namespace bertscope::gpu {

namespace {
void require(bool ok, const char* what) {
  if (!ok) throw Error(std::string("internal: shape mismatch in Vulkan op ") + what);
}
constexpr std::uint32_t kWide = 256;
enum : std::uint32_t { OpActivate = 0, OpActBackward = 1, OpAdd = 2, OpFill = 3, OpDropout = 4 };
std::uint32_t u32(std::int64_t v) { return static_cast<std::uint32_t>(v); }
}  // namespace

void VulkanBackend::gemm(const Tensor& a, const Tensor& b, Tensor& c, const Gemm& g, std::uint32_t batches) {
  const std::uint32_t tiles_n = (g.n + 63) / 64, tiles_m = (g.m + 63) / 64;
  if (tiles_n > 65535 || tiles_m > 65535 || batches > 65535) throw Error("matmul: too large for one dispatch");
  dispatch(*kernels_["matmul"], {&a, &b, &c}, &g, sizeof g, tiles_n, tiles_m, batches);
}

void VulkanBackend::elementwise(const Tensor& a, const Tensor& b, Tensor& out, std::uint32_t op, Activation act,
                                float value, std::uint32_t seed, float p) {
  struct { std::uint32_t count, op; std::int32_t act; float value; std::uint32_t seed; float p; } push{
      u32(out.numel()), op, static_cast<std::int32_t>(act), value, seed, p};
  dispatch(*kernels_["elementwise"], {&a, &b, &out}, &push, sizeof push, groups_for(out.numel(), kWide));
}

void VulkanBackend::column_sums(const Tensor& a, const Tensor* b, Tensor& out) {
  struct { std::uint32_t rows, columns, use_b; } push{u32(a.dim(0)), u32(a.dim(1)), b ? 1u : 0u};
  dispatch(*kernels_["column_sums"], {&a, b ? b : &a, &out}, &push, sizeof push, groups_for(a.dim(1), kWide));
}

void VulkanBackend::activate(const Tensor& x, Activation act, Tensor& out) {
  require(x.numel() == out.numel(), "activate");
  elementwise(x, x, out, OpActivate, act, 0, 0, 0);
}

void VulkanBackend::activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx) {
  require(x.numel() == dy.numel() && dx.numel() == x.numel(), "activation_backward");
  elementwise(x, dy, dx, OpActBackward, act, 0, 0, 0);
}

void VulkanBackend::add(const Tensor& a, const Tensor& b, Tensor& out) {
  require(a.numel() == b.numel() && out.numel() == a.numel(), "add");
  elementwise(a, b, out, OpAdd, Activation::None, 0, 0, 0);
}

void VulkanBackend::fill(Tensor& x, float value) { elementwise(x, x, x, OpFill, Activation::None, value, 0, 0); }

void VulkanBackend::dropout(const Tensor& x, float p, std::uint32_t seed, Tensor& out) {
  require(x.numel() == out.numel() && p >= 0 && p < 1, "dropout");
  elementwise(x, x, out, OpDropout, Activation::None, 1.0f / (1.0f - p), seed, p);
}

void VulkanBackend::linear_backward_input(const Tensor& dy, const Tensor& weight, bool accumulate, Tensor& dx) {
  const std::int64_t N = dy.dim(0), M = dy.dim(1), K = weight.dim(1);
  require(weight.dim(0) == M && dx.dim(0) == N && dx.dim(1) == K, "linear_backward_input");
  // An F16 inference weight (the f16 variant; saliency runs backward through one) is widened to a float32 copy
  // for this one product: matmul has no F16 form, and this path is rare enough not to need one.
  Tensor widened;
  if (weight.dtype() == DType::F16) {
    widened = empty(weight.shape());  // (M, K)
    struct { std::uint32_t count; } push{u32(weight.numel())};
    dispatch(*kernels_["widen_f16"], {&weight, &widened}, &push, sizeof push, groups_for(weight.numel(), kWide));
  }
  const Tensor& w = widened.empty() ? weight : widened;
  // dx (N, K) = dy (N, M) . weight (M, K)
  gemm(dy, w, dx, {u32(N), u32(K), u32(M), u32(M), u32(K), u32(K), 0, 0, accumulate, 1, 0, 0, 0, 0, 0, 0}, 1);
}

void VulkanBackend::linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dweight, Tensor* dbias) {
  const std::int64_t N = dy.dim(0), M = dy.dim(1), K = x.dim(1);
  require(x.dim(0) == N && dweight.dim(0) == M && dweight.dim(1) == K && (!dbias || dbias->numel() == M),
          "linear_backward_weight");
  // dweight (M, K) += dy^T (M, N) . x (N, K)
  gemm(dy, x, dweight, {u32(M), u32(K), u32(N), u32(M), u32(K), u32(K), 1, 0, 1, 1, 0, 0, 0, 0, 0, 0}, 1);
  if (dbias) column_sums(dy, nullptr, *dbias);
}

void VulkanBackend::layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, float eps, Tensor& dx,
                                        Tensor& dgamma, Tensor& dbeta) {
  const std::int64_t N = x.dim(0), H = x.dim(1);
  require(dy.numel() == x.numel() && dx.numel() == x.numel() && gamma.numel() == H && dgamma.numel() == H &&
              dbeta.numel() == H, "layer_norm_backward");
  Tensor xhat = empty({N, H});  // (N, H) normalised input, for dgamma
  struct { std::uint32_t rows, hidden; float eps; } push{u32(N), u32(H), eps};
  dispatch(*kernels_["layer_norm_backward"], {&x, &dy, &gamma, &dx, &xhat}, &push, sizeof push, groups_for(N, 1));
  column_sums(dy, &xhat, dgamma);
  column_sums(dy, nullptr, dbeta);
}

void VulkanBackend::attention_context_backward(const Tensor& probs, const Tensor& v, const Tensor& dcontext, int heads,
                                               Tensor& dprobs, Tensor& dv) {
  const std::int64_t B = probs.dim(0), T = probs.dim(3), H = v.dim(1), D = H / heads;
  require(v.dim(0) == B * T && dcontext.numel() == v.numel() && dv.numel() == v.numel() &&
              dprobs.numel() == probs.numel(), "attention_context_backward");
  // Per (b, a): probs block at (b*A + a)*T*T with row stride T; v/dcontext/dv head block at b*T*H + a*D, stride H.
  const std::uint32_t A = u32(heads), TT = u32(T * T), TH = u32(T * H), d = u32(D);
  // dprobs (T, T) = dcontext (T, D) . v^T (D, T)
  gemm(dcontext, v, dprobs, {u32(T), u32(T), d, u32(H), u32(H), u32(T), 0, 1, 0, A, TH, d, TH, d, A * TT, TT},
       u32(B * heads));
  // dv (T, D) = probs^T (T, T) . dcontext (T, D)
  gemm(probs, dcontext, dv, {u32(T), d, u32(T), u32(T), u32(H), u32(H), 1, 0, 0, A, A * TT, TT, TH, d, TH, d},
       u32(B * heads));
}

void VulkanBackend::attention_probs_backward(const Tensor& q, const Tensor& k, const Tensor& probs, Tensor& dprobs,
                                             int heads, Tensor& dq, Tensor& dk) {
  const std::int64_t B = probs.dim(0), T = probs.dim(3), H = q.dim(1), D = H / heads;
  require(q.dim(0) == B * T && k.numel() == q.numel() && dq.numel() == q.numel() && dk.numel() == q.numel() &&
              dprobs.numel() == probs.numel(), "attention_probs_backward");
  struct { std::uint32_t rows, seq; float scale; } push{u32(B * heads * T), u32(T), 1.0f / std::sqrt(float(D))};
  dispatch(*kernels_["softmax_backward"], {&probs, &dprobs}, &push, sizeof push, groups_for(B * heads * T, 1));
  const std::uint32_t A = u32(heads), TT = u32(T * T), TH = u32(T * H), d = u32(D);
  // dq (T, D) = dscores (T, T) . k (T, D)
  gemm(dprobs, k, dq, {u32(T), d, u32(T), u32(T), u32(H), u32(H), 0, 0, 0, A, A * TT, TT, TH, d, TH, d}, u32(B * heads));
  // dk (T, D) = dscores^T (T, T) . q (T, D)
  gemm(dprobs, q, dk, {u32(T), d, u32(T), u32(T), u32(H), u32(H), 1, 0, 0, A, A * TT, TT, TH, d, TH, d}, u32(B * heads));
}

void VulkanBackend::embed_backward(const Tensor& dy, const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids,
                                   Tensor& dword, Tensor& dposition, Tensor& dtoken_type) {
  const std::int64_t N = dy.dim(0), H = dy.dim(1);
  require(ids.numel() == N && type_ids.numel() == N && position_ids.numel() == N && dword.dim(1) == H &&
              dposition.dim(1) == H && dtoken_type.dim(1) == H, "embed_backward");
  struct { std::uint32_t rows, hidden; } push{u32(N), u32(H)};
  dispatch(*kernels_["embed_backward"], {&dy, &ids, &position_ids, &type_ids, &dword, &dposition, &dtoken_type}, &push, sizeof push,
           groups_for(H, kWide));
}

void VulkanBackend::scatter_add_rows(const Tensor& dy, const Tensor& rows, Tensor& dx) {
  const std::int64_t R = rows.numel(), H = dy.dim(1);
  require(dy.dim(0) == R && dx.dim(1) == H, "scatter_add_rows");
  struct { std::uint32_t count, hidden; } push{u32(R), u32(H)};
  dispatch(*kernels_["scatter_add_rows"], {&dy, &rows, &dx}, &push, sizeof push, groups_for(R * H, kWide));
}

void VulkanBackend::cross_entropy(const Tensor& logits, const Tensor& labels, float scale, Tensor& losses,
                                  Tensor& dlogits) {
  const std::int64_t N = logits.dim(0), C = logits.dim(1);
  require(labels.numel() == N && losses.numel() == N && dlogits.numel() == logits.numel(), "cross_entropy");
  struct { std::uint32_t rows, classes; float scale; } push{u32(N), u32(C), scale};
  dispatch(*kernels_["cross_entropy"], {&logits, &labels, &losses, &dlogits}, &push, sizeof push, groups_for(N, 1));
}

void VulkanBackend::sum_squares(const Tensor& x, Tensor& sums, int slot) {
  require(slot >= 0 && slot < sums.numel(), "sum_squares");
  struct { std::uint32_t count, slot; } push{u32(x.numel()), u32(slot)};
  dispatch(*kernels_["sum_squares"], {&x, &sums}, &push, sizeof push, 1);
}

void VulkanBackend::adamw(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& s) {
  require(grad.numel() == param.numel() && m.numel() == param.numel() && v.numel() == param.numel(), "adamw");
  struct { std::uint32_t count; float lr, beta1, beta2, eps, weight_decay, grad_scale, c1, c2; } push{
      u32(param.numel()), s.lr, s.beta1, s.beta2, s.eps, s.weight_decay, s.grad_scale,
      1.0f - std::pow(s.beta1, static_cast<float>(s.step)), 1.0f - std::pow(s.beta2, static_cast<float>(s.step))};
  dispatch(*kernels_["adamw"], {&param, &grad, &m, &v}, &push, sizeof push, groups_for(param.numel(), kWide));
}

}  // namespace bertscope::gpu
