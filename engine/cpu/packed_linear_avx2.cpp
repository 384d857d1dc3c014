// packed_linear's AVX2 + FMA kernel; this file alone is compiled with -mavx2 -mfma (engine/CMakeLists.txt).
#include <immintrin.h>
#include <omp.h>

#include <cstdint>

#include "cpu/packed_product.h"

namespace bertscope {
namespace {

struct Avx2 {
  using V = __m256;
  static constexpr int kWidth = 8;
  static constexpr int kMaxRows = 6;  // 6 x 2 accumulators + 2 weight vectors + 1 input of 16 registers
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
};

#include "cpu/packed_linear_kernel.h"

}  // namespace

void packed_linear_avx2(const float* X, std::int64_t N, std::int64_t K, const PackedProduct* products, int count,
                          float* scratch, FinishColumns finish, const void* context) {
  packed_linear_threads<Avx2>(X, N, K, products, count, scratch, finish, context);
}

}  // namespace bertscope
