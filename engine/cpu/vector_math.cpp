#include "cpu/vector_math.h"

// No <cmath> here: these declarations tell the compiler that glibc has vector versions of expf and erff
// (libmvec's _ZGV... symbols), so the loops below call them 16 or 8 lanes at a time.
extern "C" {
#pragma omp declare simd notinbranch
float expf(float) noexcept;
#pragma omp declare simd notinbranch
float erff(float) noexcept;
}

namespace bertscope {

void gelu_erf_inplace(float* x, std::int64_t n) { gelu_erf_rows(x, 1, n, n); }

__attribute__((target_clones("avx512f", "avx2", "default")))
void gelu_erf_rows(float* x, std::int64_t rows, std::int64_t stride, std::int64_t cols) {
  const float inv_sqrt2 = 0.70710678118654752f;
  constexpr std::int64_t kPanel = 32;  // the AVX-512 kernel's panel: a loop of known length, without remainders
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = x + r * stride;
    if (cols == kPanel) {
#pragma omp simd
      for (std::int64_t i = 0; i < kPanel; ++i) row[i] = 0.5f * row[i] * (1.0f + erff(row[i] * inv_sqrt2));
    } else {
#pragma omp simd
      for (std::int64_t i = 0; i < cols; ++i) row[i] = 0.5f * row[i] * (1.0f + erff(row[i] * inv_sqrt2));
    }
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void gelu_erf_backward(const float* x, const float* dy, float* dx, std::int64_t n) {
  const float inv_sqrt2 = 0.70710678118654752f, inv_sqrt_2pi = 0.3989422804014327f;
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float cdf = 0.5f * (1.0f + erff(x[i] * inv_sqrt2));
    const float pdf = expf(-0.5f * x[i] * x[i]) * inv_sqrt_2pi;
    dx[i] = dy[i] * (cdf + x[i] * pdf);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void adamw_update(float* w, const float* g, float* m, float* v, std::int64_t n, const AdamWScalars& s) {
  const AdamWScalars k = s;  // by value, so the loop's scalars are not reloaded through the reference
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * k.grad_scale;
    m[i] = k.beta1 * m[i] + (1.0f - k.beta1) * gi;
    v[i] = k.beta2 * v[i] + (1.0f - k.beta2) * gi * gi;
    w[i] -= k.lr * k.weight_decay * w[i];
    w[i] -= k.lr * (m[i] / k.c1) / (__builtin_sqrtf(v[i] / k.c2) + k.eps);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void layer_norm_backward_row(const float* x, const float* dy, const float* gamma, float eps, float* dx, float* xhat,
                             std::int64_t n) {
  double mean = 0.0, var = 0.0;
#pragma omp simd reduction(+ : mean)
  for (std::int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
#pragma omp simd reduction(+ : var)
  for (std::int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= double(n);
  const double rstd = 1.0 / __builtin_sqrt(var + eps);
  double mean_d = 0.0, mean_dxhat = 0.0;
#pragma omp simd reduction(+ : mean_d, mean_dxhat)
  for (std::int64_t i = 0; i < n; ++i) {
    const double xh = (x[i] - mean) * rstd;
    xhat[i] = static_cast<float>(xh);
    const double d = double(dy[i]) * gamma[i];
    mean_d += d;
    mean_dxhat += d * xh;
  }
  mean_d /= double(n);
  mean_dxhat /= double(n);
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i)
    dx[i] = static_cast<float>(rstd * (double(dy[i]) * gamma[i] - mean_d - xhat[i] * mean_dxhat));
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void exp_shifted_inplace(float* x, std::int64_t n, float shift) {
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) x[i] = expf(x[i] - shift);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void masked_softmax_inplace(float* x, const std::int32_t* keep, std::int64_t n) {
  const float minus_inf = -__builtin_inff();
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) x[i] = keep[i] ? x[i] : minus_inf;  // a masked key: exp gives it 0
  float max = minus_inf;
#pragma omp simd reduction(max : max)
  for (std::int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  if (max == minus_inf) max = 0.0f;  // every key masked: all zeros, not NaN
  float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t i = 0; i < n; ++i) {
    x[i] = expf(x[i] - max);
    sum += x[i];
  }
  const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void layer_norm_row(const float* x, const float* residual, const float* gamma, const float* beta, float eps,
                    float* y, std::int64_t n) {
  // x + residual is a float sum, as PyTorch forms it, then widened; formed again in each pass rather than kept.
  double sum = 0.0, squares = 0.0;
  if (residual) {
#pragma omp simd reduction(+ : sum)
    for (std::int64_t i = 0; i < n; ++i) sum += double(x[i] + residual[i]);
  } else {
#pragma omp simd reduction(+ : sum)
    for (std::int64_t i = 0; i < n; ++i) sum += double(x[i]);
  }
  const double mean = sum / double(n);
  if (residual) {
#pragma omp simd reduction(+ : squares)
    for (std::int64_t i = 0; i < n; ++i) {
      const double d = double(x[i] + residual[i]) - mean;
      squares += d * d;
    }
  } else {
#pragma omp simd reduction(+ : squares)
    for (std::int64_t i = 0; i < n; ++i) {
      const double d = double(x[i]) - mean;
      squares += d * d;
    }
  }
  const float inv_std = static_cast<float>(1.0 / __builtin_sqrt(squares / double(n) + eps));
  const float m = static_cast<float>(mean);
  if (residual) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] + residual[i] - m) * inv_std * gamma[i] + beta[i];
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * inv_std * gamma[i] + beta[i];
  }
}

}  // namespace bertscope
