#pragma once
// The CPU backend's `linear` for inputs of a few tokens: Y (N, M) = X (N, K) · W^T with W (M, K) row-major, as
// Hugging Face stores nn.Linear weights.
//
// Why: OpenBLAS copies ("packs") the weight matrix into its own layout on every call before multiplying. With
// 128 tokens that copy is shared by 128 rows of work; with 16 it is most of the time (48% of a 16-token bert-base
// fill-mask in sgemm_incopy alone), because the weights are read three times (read, write the copy, read it).
// This kernel reads each weight once, straight from the model's tensor, and does all N rows' dot products with it
// while it is in registers and the first-level cache. It is memory-bound on the weights, as a short input must be.
#include <cstdint>

namespace bertscope {

// Rows up to which the skinny kernel beats OpenBLAS (measured on bert-base, see the README's speed section).
constexpr std::int64_t kSkinnyLinearMaxRows = 32;

// Computes Y = X · W^T (no bias) with AVX-512 or AVX2+FMA kernels, split over OpenMP threads by output column.
// Returns false, computing nothing, when the CPU has neither: the caller then uses OpenBLAS.
bool skinny_linear(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K);

// Each instruction set's kernel, for tests (call one only where the CPU has its instructions).
void skinny_linear_avx512(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K);
void skinny_linear_avx2(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K);

}  // namespace bertscope
