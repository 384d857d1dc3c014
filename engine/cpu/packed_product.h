#pragma once
// What the packed kernels (packed_linear_kernel.h) are handed, shared with packed_linear.h. Types only: the kernels'
// files are compiled for newer instruction sets and must share no inline function with the rest of the program.
#include <cstdint>

namespace bertscope {

// One product Y (N, M) = X · W^T + bias for the kernel: Wp, W packed (packed_linear.h); bias padded to whole
// panels, or null; Y row-major with M columns.
struct PackedProduct {
  const float* Wp;
  std::int64_t M;
  const float* bias;
  float* Y;
};

// Called by each thread on the block of outputs it computed, Y[0..N) x [col, col + cols) with row stride M, while
// they are still in its cache: the caller's activation, without another parallel loop over Y.
using FinishColumns = void (*)(float* Y, std::int64_t N, std::int64_t M, std::int64_t col, std::int64_t cols,
                               const void* context);

}  // namespace bertscope
