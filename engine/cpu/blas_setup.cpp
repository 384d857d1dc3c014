#include "cpu/blas_setup.h"

#include <unistd.h>

#include <cstdlib>

namespace bertscope {

void select_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("BERTSCOPE_NO_REEXEC")) return;
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  const bool intel = __builtin_cpu_is("intel");
  if (!avx512 || intel) return;  // OpenBLAS already detects every Intel AVX-512 CPU itself
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  setenv("BERTSCOPE_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on with the default kernels
}

}  // namespace bertscope
