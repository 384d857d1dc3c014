#pragma once
// The CPU backend's row loops that call exp or erf, and LayerNorm's, vectorized. Scalar expf and erff were 11% of a
// 512-token bert-base pass and erff 5% at 128 tokens (GELU after every intermediate layer, softmax in attention).
// Here glibc's vector math library (libmvec, within 4 ulp of the scalar functions) does 16 or 8 at a time where the
// CPU has AVX-512 or AVX2; each function is compiled for both and for the baseline, and the program picks the
// right one when it loads (GCC's target_clones).
#include <cstdint>

namespace bertscope {

// x = 0.5 x (1 + erf(x / sqrt(2))): Hugging Face's "gelu" (the exact one, not the tanh approximation).
void gelu_erf_inplace(float* x, std::int64_t n);
// The same on a block of `rows` rows of `cols` values, rows `stride` apart (a kernel's columns of its output).
void gelu_erf_rows(float* x, std::int64_t rows, std::int64_t stride, std::int64_t cols);

// GELU's backward: dx = dy * (Phi(x) + x phi(x)), the derivative of x Phi(x) with Phi the normal distribution
// function and phi its density. (Scalar erff and expf made it 19% of a pre-training step.)
void gelu_erf_backward(const float* x, const float* dy, float* dx, std::int64_t n);

// One AdamW step over n parameters w with gradients g and moments m, v (PyTorch's AdamW: the decoupled weight decay
// before the Adam update). c1, c2: the bias corrections 1 - beta^step. (Compiled for the baseline alone, its
// division and square root ran four lanes wide.)
struct AdamWScalars {
  float grad_scale, beta1, beta2, c1, c2, lr, weight_decay, eps;
};
void adamw_update(float* w, const float* g, float* m, float* v, std::int64_t n, const AdamWScalars& s);

// LayerNorm's backward for one row of n values x (without gamma's and beta's gradients): xhat = (x - mean) * rstd,
// d = dy * gamma, dx = rstd * (d - mean(d) - xhat * mean(d * xhat)); the sums in double. Writes xhat for the
// caller's gamma gradient.
void layer_norm_backward_row(const float* x, const float* dy, const float* gamma, float eps, float* dx, float* xhat,
                             std::int64_t n);

// x = exp(x - shift); an element of -infinity becomes 0.
void exp_shifted_inplace(float* x, std::int64_t n, float shift);

// Softmax over x in place, the elements where keep is 0 left out (0 in the result); all zeros when every one is.
void masked_softmax_inplace(float* x, const std::int32_t* keep, std::int64_t n);

// One row of LayerNorm: y = (x + residual - mean) / sqrt(variance + eps) * gamma + beta over the row's n values,
// the mean and variance summed in double. residual may be null; y may be x. (Compiled for the baseline alone, its
// double sums ran two lanes at a time: 2.5% of a 128-token pass.)
void layer_norm_row(const float* x, const float* residual, const float* gamma, const float* beta, float eps,
                    float* y, std::int64_t n);

}  // namespace bertscope
