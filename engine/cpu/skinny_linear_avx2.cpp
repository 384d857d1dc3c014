// skinny_linear's AVX2 + FMA kernel; this file alone is compiled with -mavx2 -mfma (engine/CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

namespace bertscope {
namespace {
#include "cpu/skinny_linear_kernel.h"

struct Avx2 {
  using V = __m256;
  static constexpr int kWidth = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(V v) {
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
  }
};

}  // namespace

// 2 weight rows x 4 tokens: 8 accumulators + 6 operands of the 16 vector registers.
void skinny_linear_avx2(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K) {
  skinny_linear_with<Avx2, 2, 4>(X, W, Y, N, M, K);
}

}  // namespace bertscope
