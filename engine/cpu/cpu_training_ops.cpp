// The CPU backend's training ops: backward passes and AdamW, written to read like the maths. These are the
// reference the Vulkan kernels are tested against; they are themselves checked against finite differences and
// PyTorch autograd (tests/test_training.cpp).
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "cpu/cpu_backend.h"
#include "cpu/vector_math.h"

namespace bertscope {
namespace {

void require(bool ok, const char* what) {
  if (!ok) throw Error(std::string("internal: shape mismatch in CPU op ") + what);
}

float activation_value(float x, Activation act) {
  switch (act) {
    case Activation::Gelu: return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
    case Activation::Tanh: return std::tanh(x);
    case Activation::Relu: return std::max(x, 0.0f);
    case Activation::None: break;
  }
  return x;
}

float activation_slope(float x, Activation act) {
  switch (act) {
    case Activation::Gelu: {  // d/dx x Phi(x) = Phi(x) + x phi(x)
      const float cdf = 0.5f * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
      const float pdf = std::exp(-0.5f * x * x) * static_cast<float>(0.3989422804014327);  // 1/sqrt(2 pi)
      return cdf + x * pdf;
    }
    case Activation::Tanh: {
      const float t = std::tanh(x);
      return 1.0f - t * t;
    }
    case Activation::Relu: return x > 0.0f ? 1.0f : 0.0f;  // PyTorch's choice at 0: slope 0
    case Activation::None: break;
  }
  return 1.0f;
}

}  // namespace

void activate_in_place(float* x, std::int64_t n, Activation act) { activate_rows(x, 1, n, n, act); }

void activate_rows(float* y, std::int64_t rows, std::int64_t stride, std::int64_t cols, Activation act) {
  if (act == Activation::Gelu) {
    gelu_erf_rows(y, rows, stride, cols);  // vectorized: the scalar erff was 5-11% of a pass
    return;
  }
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < cols; ++i) y[r * stride + i] = activation_value(y[r * stride + i], act);
}

void CpuBackend::activate(const Tensor& x, Activation act, Tensor& out) {
  require(x.numel() == out.numel(), "activate");
  const float* in = f32(x);
  float* o = f32_mut(out);
  const std::int64_t n = x.numel(), chunk = 4096;
#pragma omp parallel for
  for (std::int64_t start = 0; start < n; start += chunk) {
    const std::int64_t count = std::min(chunk, n - start);
    if (o != in) std::copy(in + start, in + start + count, o + start);
    activate_in_place(o + start, count, act);
  }
}

void CpuBackend::activation_backward(const Tensor& x, const Tensor& dy, Activation act, Tensor& dx) {
  require(x.numel() == dy.numel() && dx.numel() == x.numel(), "activation_backward");
  const float* in = f32(x);
  const float* g = f32(dy);
  float* o = f32_mut(dx);
  if (act == Activation::Gelu) {  // vectorized (vector_math)
    const std::int64_t n = x.numel(), chunk = 4096;
#pragma omp parallel for
    for (std::int64_t start = 0; start < n; start += chunk)
      gelu_erf_backward(in + start, g + start, o + start, std::min(chunk, n - start));
    return;
  }
#pragma omp parallel for
  for (std::int64_t i = 0; i < x.numel(); ++i) o[i] = g[i] * activation_slope(in[i], act);
}

void CpuBackend::add(const Tensor& a, const Tensor& b, Tensor& out) {
  require(a.numel() == b.numel() && out.numel() == a.numel(), "add");
  const float* x = f32(a);
  const float* y = f32(b);
  float* o = f32_mut(out);
#pragma omp parallel for
  for (std::int64_t i = 0; i < a.numel(); ++i) o[i] = x[i] + y[i];
}

void CpuBackend::fill(Tensor& x, float value) {
  float* o = f32_mut(x);
  std::fill(o, o + x.numel(), value);
}

void CpuBackend::linear_backward_input(const Tensor& dy, const Tensor& weight, bool accumulate, Tensor& dx) {
  const std::int64_t N = dy.dim(0), M = dy.dim(1), K = weight.dim(1);
  require(weight.dim(0) == M && dx.dim(0) == N && dx.dim(1) == K, "linear_backward_input");
  // dx (N, K) = dy (N, M) . weight (M, K)
  std::vector<float> unpacked;  // (M, K) only for an inference weight kept packed
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, K, M, 1.0f, f32(dy), M, weight_rows(weight, unpacked), K,
              accumulate ? 1.0f : 0.0f, f32_mut(dx), K);
}

void CpuBackend::linear_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dweight, Tensor* dbias) {
  const std::int64_t N = dy.dim(0), M = dy.dim(1), K = x.dim(1);
  require(x.dim(0) == N && dweight.dim(0) == M && dweight.dim(1) == K, "linear_backward_weight");
  // dweight (M, K) += dy^T (M, N) . x (N, K)
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, K, N, 1.0f, f32(dy), M, f32(x), K, 1.0f, f32_mut(dweight), K);
  if (dbias) {  // dbias (M) += dy^T (M, N) . ones (N): a matrix-vector product reads dy in order
    require(dbias->numel() == M, "linear_backward_weight bias");
    const std::vector<float> ones(static_cast<size_t>(N), 1.0f);
    cblas_sgemv(CblasRowMajor, CblasTrans, N, M, 1.0f, f32(dy), M, ones.data(), 1, 1.0f, f32_mut(*dbias), 1);
  }
}

void CpuBackend::layer_norm_backward(const Tensor& x, const Tensor& dy, const Tensor& gamma, float eps, Tensor& dx,
                                     Tensor& dgamma, Tensor& dbeta) {
  const std::int64_t N = x.dim(0), H = x.dim(1);
  require(dy.numel() == x.numel() && dx.numel() == x.numel() && gamma.numel() == H && dgamma.numel() == H &&
              dbeta.numel() == H, "layer_norm_backward");
  const float* in = f32(x);
  const float* g = f32(dy);
  const float* w = f32(gamma);
  float* out = f32_mut(dx);
  std::vector<float> xhat(static_cast<size_t>(N * H));
  // Per row: xhat = (x - mean) * rstd; dxhat = dy * gamma; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)).
#pragma omp parallel for
  for (std::int64_t n = 0; n < N; ++n)
    layer_norm_backward_row(in + n * H, g + n * H, w, eps, out + n * H, xhat.data() + n * H, H);  // vector_math
  // dgamma (H) += sum over rows of dy * xhat; dbeta (H) += sum of dy. Row by row, so memory is read in order.
  std::vector<double> sg(static_cast<size_t>(H), 0.0), sb(static_cast<size_t>(H), 0.0);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t h = 0; h < H; ++h) {
      sg[static_cast<size_t>(h)] += static_cast<double>(g[n * H + h]) * xhat[static_cast<size_t>(n * H + h)];
      sb[static_cast<size_t>(h)] += g[n * H + h];
    }
  float* dg = f32_mut(dgamma);
  float* db = f32_mut(dbeta);
  for (std::int64_t h = 0; h < H; ++h) {
    dg[h] += static_cast<float>(sg[static_cast<size_t>(h)]);
    db[h] += static_cast<float>(sb[static_cast<size_t>(h)]);
  }
}

void CpuBackend::attention_context_backward(const Tensor& probs, const Tensor& v, const Tensor& dcontext, int heads,
                                            Tensor& dprobs, Tensor& dv) {
  const std::int64_t B = probs.dim(0), T = probs.dim(3), H = v.dim(1), D = H / heads;
  require(v.dim(0) == B * T && dcontext.numel() == v.numel() && dv.numel() == v.numel() &&
              dprobs.numel() == probs.numel(), "attention_context_backward");
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t a = 0; a < heads; ++a) {
      const float* P = f32(probs) + (b * heads + a) * T * T;   // (T, T)
      const float* V = f32(v) + b * T * H + a * D;             // (T, D), row stride H
      const float* dC = f32(dcontext) + b * T * H + a * D;     // (T, D), row stride H
      float* dP = f32_mut(dprobs) + (b * heads + a) * T * T;   // (T, T)
      float* dV = f32_mut(dv) + b * T * H + a * D;             // (T, D), row stride H
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, 1.0f, dC, H, V, H, 0.0f, dP, T);  // dC V^T
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, 1.0f, P, T, dC, H, 0.0f, dV, H);  // P^T dC
    }
  }
}

void CpuBackend::attention_probs_backward(const Tensor& q, const Tensor& k, const Tensor& probs, Tensor& dprobs,
                                          int heads, Tensor& dq, Tensor& dk) {
  const std::int64_t B = probs.dim(0), T = probs.dim(3), H = q.dim(1), D = H / heads;
  require(q.dim(0) == B * T && k.numel() == q.numel() && dq.numel() == q.numel() && dk.numel() == q.numel() &&
              dprobs.numel() == probs.numel(), "attention_probs_backward");
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t a = 0; a < heads; ++a) {
      const float* P = f32(probs) + (b * heads + a) * T * T;  // (T, T)
      float* dS = f32_mut(dprobs) + (b * heads + a) * T * T;  // (T, T): dprobs in, dscores out
      // Softmax backward per row: dS = P * (dP - sum_j dP_j P_j), then the 1/sqrt(D) of the scores.
#pragma omp parallel for
      for (std::int64_t i = 0; i < T; ++i) {
        double dot = 0;
        for (std::int64_t j = 0; j < T; ++j) dot += static_cast<double>(dS[i * T + j]) * P[i * T + j];
        for (std::int64_t j = 0; j < T; ++j) dS[i * T + j] = static_cast<float>(P[i * T + j] * (dS[i * T + j] - dot)) * scale;
      }
      const float* Q = f32(q) + b * T * H + a * D;  // (T, D), row stride H
      const float* K = f32(k) + b * T * H + a * D;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, 1.0f, dS, T, K, H, 0.0f,
                  f32_mut(dq) + b * T * H + a * D, H);  // dQ = dS K
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, 1.0f, dS, T, Q, H, 0.0f,
                  f32_mut(dk) + b * T * H + a * D, H);  // dK = dS^T Q
    }
  }
}

void CpuBackend::embed_backward(const Tensor& dy, const Tensor& ids, const Tensor& position_ids, const Tensor& type_ids,
                                Tensor& dword, Tensor& dposition, Tensor& dtoken_type) {
  const std::int64_t N = dy.dim(0), H = dy.dim(1);
  require(ids.numel() == N && type_ids.numel() == N && position_ids.numel() == N && dword.dim(1) == H &&
              dposition.dim(1) == H && dtoken_type.dim(1) == H, "embed_backward");
  const std::int32_t* pos = i32(position_ids);
  const float* g = f32(dy);
  const std::int32_t* id = i32(ids);
  const std::int32_t* type = i32(type_ids);
  float* dw = f32_mut(dword);
  float* dp = f32_mut(dposition);
  float* dt = f32_mut(dtoken_type);
  // Parallel over columns: each thread owns column h of every table, so repeated ids never race.
#pragma omp parallel for
  for (std::int64_t h = 0; h < H; ++h) {
    for (std::int64_t n = 0; n < N; ++n) {
      const float v = g[n * H + h];
      dw[static_cast<std::int64_t>(id[n]) * H + h] += v;
      dp[static_cast<std::int64_t>(pos[n]) * H + h] += v;
      dt[static_cast<std::int64_t>(type[n]) * H + h] += v;
    }
  }
}

void CpuBackend::scatter_add_rows(const Tensor& dy, const Tensor& rows, Tensor& dx) {
  const std::int64_t R = rows.numel(), H = dy.dim(1);
  require(dy.dim(0) == R && dx.dim(1) == H, "scatter_add_rows");
  const float* g = f32(dy);
  const std::int32_t* r = i32(rows);
  float* out = f32_mut(dx);
  for (std::int64_t i = 0; i < R; ++i) {
    require(r[i] >= 0 && r[i] < dx.dim(0), "scatter_add_rows row");
    for (std::int64_t h = 0; h < H; ++h) out[static_cast<std::int64_t>(r[i]) * H + h] += g[i * H + h];
  }
}

void CpuBackend::dropout(const Tensor& x, float p, std::uint32_t seed, Tensor& out) {
  require(x.numel() == out.numel(), "dropout");
  const float* in = f32(x);
  float* o = f32_mut(out);
  const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for
  for (std::int64_t i = 0; i < x.numel(); ++i)
    o[i] = dropout_keeps(seed, static_cast<std::uint32_t>(i), p) ? in[i] * scale : 0.0f;
}

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& labels, float scale, Tensor& losses, Tensor& dlogits) {
  const std::int64_t N = logits.dim(0), C = logits.dim(1);
  require(labels.numel() == N && losses.numel() == N && dlogits.numel() == logits.numel(), "cross_entropy");
  const float* z = f32(logits);
  const std::int32_t* y = i32(labels);
  float* loss = f32_mut(losses);
  float* dz = f32_mut(dlogits);
#pragma omp parallel for
  for (std::int64_t n = 0; n < N; ++n) {
    const float* row = z + n * C;
    float* drow = dz + n * C;
    if (y[n] < 0) {
      loss[n] = 0.0f;
      std::fill(drow, drow + C, 0.0f);
      continue;
    }
    float max = -std::numeric_limits<float>::infinity();
    for (std::int64_t c = 0; c < C; ++c) max = std::max(max, row[c]);
    double sum = 0;
    for (std::int64_t c = 0; c < C; ++c) sum += std::exp(static_cast<double>(row[c] - max));
    loss[n] = static_cast<float>(std::log(sum) + max - row[y[n]]);
    for (std::int64_t c = 0; c < C; ++c)
      drow[c] = static_cast<float>((std::exp(static_cast<double>(row[c] - max)) / sum - (c == y[n] ? 1.0 : 0.0)) * scale);
  }
}

void CpuBackend::sum_squares(const Tensor& x, Tensor& sums, int slot) {
  require(slot >= 0 && slot < sums.numel(), "sum_squares");
  const float* in = f32(x);
  double total = 0;
#pragma omp parallel for reduction(+ : total)
  for (std::int64_t i = 0; i < x.numel(); ++i) total += static_cast<double>(in[i]) * in[i];
  f32_mut(sums)[slot] = static_cast<float>(total);
}

void CpuBackend::adamw(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamWStep& s) {
  require(grad.numel() == param.numel() && m.numel() == param.numel() && v.numel() == param.numel(), "adamw");
  float* w = f32_mut(param);
  const float* g = f32(grad);
  float* m1 = f32_mut(m);
  float* m2 = f32_mut(v);
  const float c1 = 1.0f - std::pow(s.beta1, static_cast<float>(s.step));
  const float c2 = 1.0f - std::pow(s.beta2, static_cast<float>(s.step));
  const AdamWScalars k{s.grad_scale, s.beta1, s.beta2, c1, c2, s.lr, s.weight_decay, s.eps};
  const std::int64_t n = param.numel(), chunk = 16384;
#pragma omp parallel for
  for (std::int64_t start = 0; start < n; start += chunk)
    adamw_update(w + start, g + start, m1 + start, m2 + start, std::min(chunk, n - start), k);  // vector_math
}

}  // namespace bertscope
