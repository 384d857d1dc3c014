#include "cpu/blas_setup.h"

#include <cblas.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <set>
#include <string>

namespace bertscope {
namespace {

// The best OpenBLAS kernel family this CPU can run, and the names OpenBLAS reports for families at least as fast.
struct KernelChoice {
  const char* coretype;             // what OPENBLAS_CORETYPE takes
  std::set<std::string> as_good;    // openblas_get_corename() values (lower case) that need no change
};

const KernelChoice* best_kernels_for_this_cpu() {
  static const KernelChoice avx512{"SkylakeX", {"skylakex", "cooperlake", "sapphirerapids"}};
  static const KernelChoice avx2{"Haswell", {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"}};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return &avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2;
  return nullptr;  // older CPUs: OpenBLAS's own choice is as good as any
}

}  // namespace

const char* blas_kernel_name() { return openblas_get_corename(); }

void prepare_cpu_runtime(char** argv) {
  if (std::getenv("BERTSCOPE_NO_REEXEC")) return;
  bool changed = false;
  if (!std::getenv("OPENBLAS_CORETYPE")) {
    if (const KernelChoice* best = best_kernels_for_this_cpu()) {
      std::string chosen = openblas_get_corename();
      for (char& c : chosen) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!best->as_good.count(chosen)) {
        setenv("OPENBLAS_CORETYPE", best->coretype, 1);
        changed = true;
      }
    }
  }
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
    setenv("GOMP_SPINCOUNT", "1000", 1);
    changed = true;
  }
  if (!changed) return;
  setenv("BERTSCOPE_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on with the defaults
}

}  // namespace bertscope
