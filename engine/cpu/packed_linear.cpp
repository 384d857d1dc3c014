#include "cpu/packed_linear.h"

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace bertscope {

int packed_panel_width() {
  static const int width = [] {
    // BERTSCOPE_PACKED_WEIGHTS=0 keeps OpenBLAS for every product, to measure what packing buys
    if (const char* env = std::getenv("BERTSCOPE_PACKED_WEIGHTS"); env && std::string(env) == "0") return 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 32;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 16;
    return 0;
  }();
  return width;
}

PackedWeight pack_weight(const float* W, std::int64_t M, std::int64_t K, int panel,
                         const std::function<void(std::int64_t, std::int64_t)>& consumed) {
  PackedWeight p;
  p.M = M;
  p.K = K;
  p.panel = panel;
  const std::int64_t P = p.panel, panels = (M + P - 1) / P;
  p.panels.resize(panels * K * P);  // (panels, K, P), left unset (HugePageAllocator): every element is written below
  // A chunk of panels at a time, so that `consumed` can release the source's pages before the next chunk is read.
  constexpr std::int64_t kChunk = 64;
  for (std::int64_t c0 = 0; c0 < panels; c0 += kChunk) {
    const std::int64_t c1 = std::min(panels, c0 + kChunk);
#pragma omp parallel for schedule(static)
    for (std::int64_t q = c0; q < c1; ++q) {
      float* dst = p.panels.data() + q * K * P;  // (K, P)
      const std::int64_t rows = std::min(P, M - q * P);
      for (std::int64_t k0 = 0; k0 < K; k0 += 64) {  // 64 x P floats of destination at a time: they stay in cache
        const std::int64_t k1 = std::min(K, k0 + 64);
        for (std::int64_t j = 0; j < rows; ++j) {
          const float* row = W + (q * P + j) * K;
          for (std::int64_t k = k0; k < k1; ++k) dst[k * P + j] = row[k];
        }
        for (std::int64_t j = rows; j < P; ++j)  // past M (the last panel): zero
          for (std::int64_t k = k0; k < k1; ++k) dst[k * P + j] = 0.0f;
      }
    }
    if (consumed) consumed(c0 * P, std::min(M, c1 * P));
  }
  return p;
}

void unpack_weight(const PackedWeight& w, float* out) {
  const std::int64_t P = w.panel, K = w.K;
#pragma omp parallel for schedule(static)
  for (std::int64_t m = 0; m < w.M; ++m) {
    const float* src = w.panels.data() + (m / P) * K * P + m % P;  // column m % P of its panel
    for (std::int64_t k = 0; k < K; ++k) out[m * K + k] = src[k * P];
  }
}

namespace {

// Runs products of one input, each with its bias padded to whole panels (the kernel reads a panel's at a time).
void run_packed(const float* X, std::int64_t N, std::span<const PackedLinearInto> products, FinishColumns finish,
                const void* context) {
  const std::int64_t P = products[0].weight->panel, K = products[0].weight->K;
  std::vector<PackedProduct> kernel_products;
  std::vector<std::vector<float>> padded(products.size());
  for (size_t i = 0; i < products.size(); ++i) {
    const PackedWeight& w = *products[i].weight;
    if (w.K != K || w.panel != P) throw std::logic_error("packed_linears: weights of different shapes");
    const float* bias = products[i].bias;
    if (bias && w.M % P != 0) {
      padded[i].assign((w.M + P - 1) / P * P, 0.0f);
      std::copy(bias, bias + w.M, padded[i].begin());
      bias = padded[i].data();
    }
    kernel_products.push_back({w.panels.data(), w.M, bias, products[i].Y});
  }
  // The inputs' k-major copy (packed_linear_kernel.h), kept between calls as every layer needs one. A batch
  // goes kMaxChunk rows at a time, which bounds it (6 MB at K = 3,072).
  constexpr std::int64_t kMaxChunk = 512;
  thread_local HugePageFloats scratch;
  const std::int64_t chunk = std::min(N, kMaxChunk);
  if (scratch.size() < static_cast<size_t>(chunk * K)) scratch.resize(chunk * K);
  auto kernel = P == 32 ? packed_linear_avx512 : packed_linear_avx2;
  for (std::int64_t r = 0; r < N; r += chunk) {
    const std::int64_t n = std::min(chunk, N - r);
    std::vector<PackedProduct> rows = kernel_products;  // this chunk's rows of each output
    for (size_t i = 0; i < rows.size(); ++i) rows[i].Y = kernel_products[i].Y + r * rows[i].M;
    kernel(X + r * K, n, K, rows.data(), static_cast<int>(rows.size()), scratch.data(), finish, context);
  }
}

}  // namespace

void packed_linear(const float* X, std::int64_t N, const PackedWeight& w, const float* bias, float* Y,
                   FinishColumns finish, const void* context) {
  const PackedLinearInto product{&w, bias, Y};
  run_packed(X, N, {&product, 1}, finish, context);
}

void packed_linears(const float* X, std::int64_t N, std::span<const PackedLinearInto> products) {
  if (!products.empty()) run_packed(X, N, products, nullptr, nullptr);
}

}  // namespace bertscope
