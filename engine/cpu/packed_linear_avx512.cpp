// packed_linear's AVX-512 kernel; this file alone is compiled with -mavx512f -mfma (engine/CMakeLists.txt).
#include <immintrin.h>
#include <omp.h>

#include <cstdint>

#include "cpu/packed_product.h"

namespace bertscope {
namespace {

struct Avx512 {
  using V = __m512;
  static constexpr int kWidth = 16;
  static constexpr int kMaxRows = 14;  // 14 x 2 accumulators + 2 weight vectors + 1 input of 32 registers
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
};

#include "cpu/packed_linear_kernel.h"

}  // namespace

void packed_linear_avx512(const float* X, std::int64_t N, std::int64_t K, const PackedProduct* products, int count,
                          float* scratch, FinishColumns finish, const void* context) {
  packed_linear_threads<Avx512>(X, N, K, products, count, scratch, finish, context);
}

}  // namespace bertscope
