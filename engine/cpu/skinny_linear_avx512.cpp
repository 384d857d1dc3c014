// skinny_linear's AVX-512 kernel; this file alone is compiled with -mavx512f -mfma (engine/CMakeLists.txt).
#include <immintrin.h>

#include <cstdint>

namespace bertscope {
namespace {
#include "cpu/skinny_linear_kernel.h"

struct Avx512 {
  using V = __m512;
  static constexpr int kWidth = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(V v) { return _mm512_reduce_add_ps(v); }
};

}  // namespace

// 4 weight rows x 4 tokens: 16 accumulators + 8 operands of the 32 vector registers.
void skinny_linear_avx512(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K) {
  skinny_linear_with<Avx512, 4, 4>(X, W, Y, N, M, K);
}

}  // namespace bertscope
