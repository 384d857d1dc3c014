#pragma once
// The skinny_linear kernel, written once over an instruction set (Isa: a vector type V of kWidth floats with zero,
// load, fma and sum). Included only by skinny_linear_avx512.cpp and skinny_linear_avx2.cpp, each compiled for its
// instruction set, inside their anonymous namespaces; it includes no standard header, so no inline library
// function compiled for AVX-512 can be picked by the linker for code that runs on other CPUs (the including file
// includes <cstdint> first).

// R weight rows (outputs o..o+R) times C input rows (tokens t..t+C): R x C dot products of length K, each weight
// vector loaded once and used C times.
template <class Isa, int R, int C>
inline void skinny_block(const float* X, const float* W, float* Y, std::int64_t M, std::int64_t K, std::int64_t o,
                         std::int64_t t) {
  typename Isa::V acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = Isa::zero();
  std::int64_t i = 0;
  for (; i + Isa::kWidth <= K; i += Isa::kWidth) {
    typename Isa::V w[R], x[C];
    for (int r = 0; r < R; ++r) w[r] = Isa::load(W + (o + r) * K + i);
    for (int c = 0; c < C; ++c) x[c] = Isa::load(X + (t + c) * K + i);
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = Isa::fma(w[r], x[c], acc[r][c]);
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float tail = 0.0f;  // K not a multiple of the vector width
      for (std::int64_t j = i; j < K; ++j) tail += W[(o + r) * K + j] * X[(t + c) * K + j];
      Y[(t + c) * M + o + r] = Isa::sum(acc[r][c]) + tail;
    }
}

// All N input rows against R weight rows starting at o.
template <class Isa, int R, int C>
inline void skinny_rows(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K,
                        std::int64_t o) {
  std::int64_t t = 0;
  for (; t + C <= N; t += C) skinny_block<Isa, R, C>(X, W, Y, M, K, o, t);
  for (; t < N; ++t) skinny_block<Isa, R, 1>(X, W, Y, M, K, o, t);
}

// Y (N, M) = X (N, K) · W^T, W (M, K): threads split the weight rows, R at a time.
template <class Isa, int R, int C>
void skinny_linear_with(const float* X, const float* W, float* Y, std::int64_t N, std::int64_t M, std::int64_t K) {
  const std::int64_t blocks = (M + R - 1) / R;
#pragma omp parallel for schedule(static)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t o = b * R;
    if (o + R <= M) {
      skinny_rows<Isa, R, C>(X, W, Y, N, M, K, o);
    } else {
      for (std::int64_t row = o; row < M; ++row) skinny_rows<Isa, 1, C>(X, W, Y, N, M, K, row);
    }
  }
}
