#include "cpu/skinny_linear.h"

namespace bertscope {

bool skinny_linear(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K) {
  static const int isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 256;
    return 0;
  }();
  if (isa == 512) skinny_linear_avx512(X, W, Y, N, M, K);
  else if (isa == 256) skinny_linear_avx2(X, W, Y, N, M, K);
  return isa != 0;
}

}  // namespace bertscope
