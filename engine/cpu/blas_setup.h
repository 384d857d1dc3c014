#pragma once
// OpenBLAS 0.3.21 (Debian 12) does not recognise AMD Zen 4 and falls back to slow generic kernels, although the
// CPU runs its AVX-512 (SkylakeX) kernels fine: 1.6x faster on bert-base. OpenBLAS picks its kernels when it is
// loaded, before main(), from OPENBLAS_CORETYPE; so when that is unset and the CPU has the AVX-512 subsets the
// SkylakeX kernels need, this sets it and re-executes the program once. Call first thing in main().
namespace bertscope {

void select_blas_kernels(char** argv);

}  // namespace bertscope
