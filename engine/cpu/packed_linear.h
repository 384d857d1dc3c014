#pragma once
// The CPU backend's `linear` for weights that never change (a model memory-mapped from its file): Y (N, M) =
// X (N, K) · W^T + bias, with the weights rearranged once, on first use, into the layout the kernel streams.
//
// Why: OpenBLAS rearranges ("packs") the weight matrix into its own layout on every call, which was 16% of a
// 128-token bert-base fill-mask (sgemm_incopy) and is repeated for every input. Packing once turns that cost into
// a one-off, and the kernel adds the bias as it starts each tile instead of in a second pass over Y.
// The layout is described in packed_linear_kernel.h.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "cpu/huge_pages.h"
#include "cpu/packed_product.h"

namespace bertscope {

// A weight matrix W (M, K) in panels of `panel` output columns, each k-major: (ceil(M / panel), K, panel).
struct PackedWeight {
  HugePageFloats panels;  // streamed on every pass: on 2 MB pages (huge_pages.h)
  std::int64_t M = 0, K = 0;
  int panel = 0;
};

// Output columns per panel for this CPU's kernel (32 with AVX-512, 16 with AVX2 + FMA), or 0 where it has
// neither and OpenBLAS is used instead (also when BERTSCOPE_PACKED_WEIGHTS=0).
int packed_panel_width();

// Packs W (M, K) row-major in panels of `panel` columns: 32 runs the AVX-512 kernel, 16 the AVX2 one (the CPU must
// have it). `consumed(first_row, end_row)` is called as rows are copied, so that the caller can release the
// source's memory as it goes.
PackedWeight pack_weight(const float* W, std::int64_t M, std::int64_t K, int panel,
                         const std::function<void(std::int64_t, std::int64_t)>& consumed = {});

// W (M, K) row-major again, into `out` (M * K floats): for the few ops that need the weights as stored.
void unpack_weight(const PackedWeight& w, float* out);

// Y (N, M) = X (N, K) · W^T + bias (bias: M values, or null), split over OpenMP threads by panels, with the kernel
// the panel width names; then `finish` (FinishColumns, packed_product.h), if any, on each thread's columns.
void packed_linear(const float* X, std::int64_t N, const PackedWeight& w, const float* bias, float* Y,
                   FinishColumns finish = nullptr, const void* context = nullptr);

// Several weights applied to one input X (N, K): Y_i (N, M_i) = X · W_i^T + bias_i. One parallel region, X copied
// into the kernel's order once, and all the weights' panels shared out among the threads together. The weights
// must have the same K and panel width.
struct PackedLinearInto {
  const PackedWeight* weight;
  const float* bias;  // M_i values, or null
  float* Y;
};
void packed_linears(const float* X, std::int64_t N, std::span<const PackedLinearInto> products);

// Each instruction set's kernel (packed_linear_kernel.h): scratch holds N * K floats.
void packed_linear_avx512(const float* X, std::int64_t N, std::int64_t K, const PackedProduct* products, int count,
                          float* scratch, FinishColumns finish, const void* context);
void packed_linear_avx2(const float* X, std::int64_t N, std::int64_t K, const PackedProduct* products, int count,
                        float* scratch, FinishColumns finish, const void* context);

}  // namespace bertscope
