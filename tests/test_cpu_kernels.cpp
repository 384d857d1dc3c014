// The CPU backend's own kernels against a plain double-precision reference: skinny_linear (short inputs' linear
// layers) and packed_linear (inference weights packed once), in every instruction set this CPU has, over shapes
// that leave remainders in each blocking; and the vectorized GELU, exp and softmax (vector_math) against the scalar
// library functions.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "cpu/cpu_backend.h"
#include "cpu/huge_pages.h"
#include "cpu/packed_linear.h"
#include "cpu/skinny_linear.h"
#include "cpu/vector_math.h"

using namespace bertscope;

namespace {

using Kernel = void (*)(const float*, const float*, float*, std::int64_t, std::int64_t, std::int64_t);

// Y (N, M) = X (N, K) · W^T, W (M, K), summed in double.
std::vector<float> reference(const std::vector<float>& X, const std::vector<float>& W, int N, int M, int K) {
  std::vector<float> Y(static_cast<size_t>(N) * M);
  for (int t = 0; t < N; ++t)
    for (int o = 0; o < M; ++o) {
      double sum = 0;
      for (int i = 0; i < K; ++i) sum += double(X[t * K + i]) * W[o * K + i];
      Y[t * M + o] = static_cast<float>(sum);
    }
  return Y;
}

// Largest |kernel - reference| over shapes with N, M and K on and off the kernels' block sizes (4 rows or tokens,
// 8 or 16 floats).
double worst_error(Kernel kernel) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  double worst = 0;
  for (int N : {1, 3, 4, 5, 16, 17, 32})
    for (int M : {1, 2, 5, 64, 67})
      for (int K : {1, 7, 16, 33, 768}) {
        std::vector<float> X(static_cast<size_t>(N) * K), W(static_cast<size_t>(M) * K);
        for (float& v : X) v = normal(rng);
        for (float& v : W) v = normal(rng);
        std::vector<float> Y(static_cast<size_t>(N) * M, std::nanf(""));  // every element must be written
        kernel(X.data(), W.data(), Y.data(), N, M, K);
        const auto want = reference(X, W, N, M, K);
        for (size_t j = 0; j < Y.size(); ++j) {
          const double err = std::abs(double(Y[j]) - want[j]) / std::sqrt(double(K));  // sums of K unit terms
          if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : err;
        }
      }
  return worst;
}

// Largest |packed_linear - reference| (relative as above) over shapes on and off its blocks: row tiles of 14 or 6,
// 512-row chunks, panels of 32 or 16 columns, 384 steps of k. With a bias every other shape; packing and unpacking
// must give the weights back exactly.
double worst_packed_error(int panel) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  double worst = 0;
  int shape = 0;
  for (int N : {1, 2, 6, 7, 13, 14, 15, 29, 100, 530})
    for (int M : {1, 15, 16, 31, 32, 33, 70})
      for (int K : {1, 5, 383, 385, 800}) {
        if (std::int64_t(N) * M * K > 3000000) continue;  // keep the double-precision reference quick
        std::vector<float> X(static_cast<size_t>(N) * K), W(static_cast<size_t>(M) * K), bias(M);
        for (float& v : X) v = normal(rng);
        for (float& v : W) v = normal(rng);
        for (float& v : bias) v = normal(rng);
        const bool with_bias = ++shape % 2 == 0;
        const PackedWeight packed = pack_weight(W.data(), M, K, panel);
        std::vector<float> back(W.size(), std::nanf(""));
        unpack_weight(packed, back.data());
        if (back != W) return INFINITY;
        std::vector<float> Y(static_cast<size_t>(N) * M, std::nanf(""));  // every element must be written
        packed_linear(X.data(), N, packed, with_bias ? bias.data() : nullptr, Y.data());
        auto want = reference(X, W, N, M, K);
        for (size_t j = 0; j < Y.size(); ++j) {
          if (with_bias) want[j] += bias[j % M];
          const double err = std::abs(double(Y[j]) - want[j]) / std::sqrt(double(K));
          if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : err;
        }
      }
  return worst;
}

}  // namespace

class TestCpuKernels : public QObject {
  Q_OBJECT
 private slots:
  void skinnyLinearAvx512() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) QSKIP("this CPU has no AVX-512");
    QVERIFY2(worst_error(skinny_linear_avx512) < 1e-5, qPrintable(QString::number(worst_error(skinny_linear_avx512))));
  }
  void skinnyLinearAvx2() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) QSKIP("this CPU has no AVX2 + FMA");
    QVERIFY2(worst_error(skinny_linear_avx2) < 1e-5, qPrintable(QString::number(worst_error(skinny_linear_avx2))));
  }
  void packedLinearAvx512() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) QSKIP("this CPU has no AVX-512");
    const double err = worst_packed_error(32);
    QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
  }
  void packedLinearAvx2() {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) QSKIP("this CPU has no AVX2 + FMA");
    const double err = worst_packed_error(16);
    QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
  }
  // Through the backend: an inference weight is packed on upload (where the CPU has AVX2 or AVX-512), converted
  // (kept only packed) or borrowed (the caller's memory kept alive, its pages handed back while packing), and every
  // op allowed on it gives what the plain F32 weight gives: linear, linear_backward_input and download.
  void inferenceWeightThroughBackend() {
    CpuBackend cpu;
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const int N = 20, M = 70, K = 1030;  // K spans several pages, so the borrowed case hands some back
    auto fill = [&](size_t n) {
      std::vector<float> v(n);
      for (float& x : v) x = normal(rng);
      return v;
    };
    const auto x = fill(size_t(N) * K), b = fill(M), dy = fill(size_t(N) * M);
    auto borrowed = std::make_shared<std::vector<float>>(fill(size_t(M) * K));
    const std::vector<float> w = *borrowed;
    Tensor plain = cpu.upload(w, {M, K});
    for (bool keep : {false, true}) {
      Tensor packed = keep ? cpu.upload_inference_weight(*borrowed, {M, K}, borrowed)
                           : cpu.upload_inference_weight(w, {M, K}, nullptr);
      std::vector<float> back(w.size());
      cpu.download(packed, back);
      QCOMPARE(back, w);
      QVERIFY_THROWS_EXCEPTION(Error, CpuBackend::f32_mut(packed));  // read-only
      Tensor X = cpu.upload(x, {N, K}), B = cpu.upload(b, {M});
      Tensor want = cpu.empty({N, M}), got = cpu.empty({N, M});
      cpu.linear(X, plain, &B, Activation::Gelu, want);
      cpu.linear(X, packed, &B, Activation::Gelu, got);
      for (std::int64_t i = 0; i < want.numel(); ++i)
        QVERIFY(std::abs(CpuBackend::f32(got)[i] - CpuBackend::f32(want)[i]) < 1e-4f);
      Tensor DY = cpu.upload(dy, {N, M}), dx_want = cpu.empty({N, K}), dx_got = cpu.empty({N, K});
      cpu.linear_backward_input(DY, plain, false, dx_want);
      cpu.linear_backward_input(DY, packed, false, dx_got);
      for (std::int64_t i = 0; i < dx_want.numel(); ++i)
        QCOMPARE(CpuBackend::f32(dx_got)[i], CpuBackend::f32(dx_want)[i]);  // the same product on the same values
    }
    QCOMPARE(*borrowed, w);  // handing pages back never changes what they hold
  }
  // Query, key and value in one call of the packed kernel (linears_of_one_input): each output is what its own
  // `linear` gives, bit for bit (every output is summed in the same order), with weights of different widths so the
  // threads' shares straddle two weights; and with one weight not packed, where the call falls back to one product
  // at a time.
  void linearsOfOneInput() {
    CpuBackend cpu;
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto fill = [&](size_t n) {
      std::vector<float> v(n);
      for (float& x : v) x = normal(rng);
      return v;
    };
    for (int N : {1, 15, 40, 200}) {  // panels shared out one at a time up to 128 rows, fixed shares above
      const int K = 500;
      const std::vector<int> widths = {70, 33, 128};
      Tensor X = cpu.upload(fill(size_t(N) * K), {N, K});
      for (bool all_packed : {true, false}) {
        std::vector<Tensor> weights, biases, got, want;
        for (size_t i = 0; i < widths.size(); ++i) {
          const int M = widths[i];
          const auto w = fill(size_t(M) * K);
          weights.push_back(all_packed || i != 1 ? cpu.upload_inference_weight(w, {M, K}, nullptr)
                                                  : cpu.upload(w, {M, K}));
          biases.push_back(cpu.upload(fill(M), {M}));
          got.push_back(cpu.empty({N, M}));
          want.push_back(cpu.empty({N, M}));
        }
        std::vector<Backend::LinearInto> products;
        for (size_t i = 0; i < widths.size(); ++i) {
          cpu.linear(X, weights[i], i == 2 ? nullptr : &biases[i], Activation::None, want[i]);
          products.push_back({&weights[i], i == 2 ? nullptr : &biases[i], &got[i]});
        }
        cpu.linears_of_one_input(X, products);
        for (size_t i = 0; i < widths.size(); ++i)
          for (std::int64_t e = 0; e < want[i].numel(); ++e)
            QCOMPARE(CpuBackend::f32(got[i])[e], CpuBackend::f32(want[i])[e]);
      }
    }
  }
  // Packed weights' memory (huge_pages.h): blocks of 2 MB or more start on a 2 MB boundary (where the kernel can
  // map them with huge pages), smaller ones come from the ordinary allocator; both hold what is written to them.
  void hugePageAllocator() {
    for (size_t n : {size_t(1000), (size_t(2) << 20) / sizeof(float), size_t(1'500'000), size_t(600'000)}) {
      std::vector<float, HugePageAllocator<float>> v(n);
      const auto address = reinterpret_cast<std::uintptr_t>(v.data());
      constexpr size_t kHuge = HugePageAllocator<float>::kHugePage;
      if (n * sizeof(float) >= kHuge) QCOMPARE(address % kHuge, 0u);
      for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i % 4099);
      v.resize(n + 17, -1.0f);  // moved to a new block
      for (size_t i = 0; i < n; i += 997) QCOMPARE(v[i], static_cast<float>(i % 4099));
      QCOMPARE(v.back(), -1.0f);
    }
  }
  // Inference's attention without the maps (CpuBackend::attention: a block of 256 query rows of one head at a time)
  // gives the context attention_probs, scale_heads and attention_context give: 300 tokens (a whole block and a part),
  // two sentences with padding, head factors per head, per sentence and head, or none; heads of 8 values and of 64
  // (bert-base's).
  void attentionWithoutMaps_data() {
    QTest::addColumn<int>("D");
    QTest::newRow("8 per head") << 8;
    QTest::newRow("64 per head") << 64;
  }
  void attentionWithoutMaps() {
    QFETCH(int, D);
    CpuBackend cpu;
    std::mt19937 rng(9);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const int B = 2, T = 300, A = 3, H = A * D;
    auto fill = [&](size_t n) {
      std::vector<float> v(n);
      for (float& x : v) x = normal(rng) * (D == 8 ? 1.0f : 0.3f);  // scores of the same spread either way
      return v;
    };
    std::vector<std::int32_t> mask(size_t(B) * T, 1);
    for (int j = 270; j < T; ++j) mask[size_t(T) + j] = 0;  // the second sentence is 270 tokens, padded
    Tensor q = cpu.upload(fill(size_t(B) * T * H), {B * T, H}), k = cpu.upload(fill(size_t(B) * T * H), {B * T, H});
    Tensor v = cpu.upload(fill(size_t(B) * T * H), {B * T, H}), m = cpu.upload(mask, {B, T});
    const std::vector<float> per_head{1.0f, 0.0f, 0.5f}, per_sentence{1.0f, 0.0f, 1.0f, 0.25f, 1.0f, 0.0f};
    for (int variant = 0; variant < 3; ++variant) {
      Tensor scale = variant == 1 ? cpu.upload(per_head, {A}) : cpu.upload(per_sentence, {B, A});
      const Tensor* factor = variant == 0 ? nullptr : &scale;
      Tensor probs = cpu.empty({B, A, T, T}), want = cpu.empty({B * T, H}), got = cpu.empty({B * T, H});
      cpu.attention_probs(q, k, m, A, probs);
      if (factor) cpu.scale_heads(probs, *factor, probs);
      cpu.attention_context(probs, v, A, want);
      QVERIFY(cpu.attention(q, k, v, m, A, factor, got));
      for (std::int64_t i = 0; i < want.numel(); ++i)
        QVERIFY2(std::abs(CpuBackend::f32(got)[i] - CpuBackend::f32(want)[i]) < 1e-6f,
                 qPrintable(QString("variant %1, element %2: %3 vs %4").arg(variant).arg(i)
                                .arg(CpuBackend::f32(got)[i]).arg(CpuBackend::f32(want)[i])));
    }
  }
  // The dispatcher either computes (a CPU with either set) or says it did not, leaving the caller to OpenBLAS.
  void skinnyLinearDispatch() {
    const std::vector<float> X{1, 2, 3}, W{4, 5, 6, -1, 0, 1};  // X (1, 3), W (2, 3)
    std::vector<float> Y(2, 0.0f);
    if (!skinny_linear(X.data(), W.data(), Y.data(), 1, 2, 3)) QSKIP("no AVX2/AVX-512: OpenBLAS does this work");
    QCOMPARE(Y[0], 32.0f);
    QCOMPARE(Y[1], 2.0f);
  }
  // GELU over -10..10 in steps of 1/64 (and a length that is no multiple of a vector): within 1e-6 of
  // 0.5 x (1 + erf(x / sqrt 2)) in double, relative to max(1, |x|).
  void geluMatchesErf() {
    std::vector<float> x;
    for (int i = -640; i <= 640; ++i) x.push_back(i / 64.0f);
    std::vector<float> y = x;
    gelu_erf_inplace(y.data(), static_cast<std::int64_t>(y.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = 0.5 * x[i] * (1.0 + std::erf(x[i] / std::sqrt(2.0)));
      QVERIFY2(std::abs(y[i] - want) <= 1e-6 * std::max(1.0, std::abs(double(x[i]))),
               qPrintable(QString("gelu(%1) = %2, want %3").arg(x[i]).arg(y[i]).arg(want)));
    }
  }
  // exp(x - shift) within 1e-6 relative over softmax's range, and -infinity (a masked key) gives exactly 0.
  void expShifted() {
    std::vector<float> x;
    for (int i = 0; i <= 1000; ++i) x.push_back(-i / 10.0f);
    x.push_back(-std::numeric_limits<float>::infinity());
    std::vector<float> y = x;
    exp_shifted_inplace(y.data(), static_cast<std::int64_t>(y.size()), 0.5f);
    for (size_t i = 0; i + 1 < x.size(); ++i) {
      const double want = std::exp(double(x[i] - 0.5f));  // the difference rounds to float first, as in the kernel
      QVERIFY2(std::abs(y[i] - want) <= 1e-6 * want + 1e-30,
               qPrintable(QString("exp(%1 - 0.5) = %2, want %3").arg(x[i]).arg(y[i]).arg(want)));
    }
    QCOMPARE(y.back(), 0.0f);
  }
  // Softmax with masked keys against double precision: masked entries exactly 0, the rest within 1e-6 relative
  // (lengths off the vector width); a row with every key masked is all zeros.
  void maskedSoftmax() {
    std::mt19937 rng(5);
    std::normal_distribution<float> normal(0.0f, 4.0f);
    for (int n : {1, 7, 16, 33, 512}) {
      std::vector<float> x(n);
      std::vector<std::int32_t> keep(n);
      for (int i = 0; i < n; ++i) {
        x[i] = normal(rng);
        keep[i] = i == 0 || rng() % 4 != 0;
      }
      std::vector<float> y = x;
      masked_softmax_inplace(y.data(), keep.data(), n);
      double max = -INFINITY, sum = 0;
      for (int i = 0; i < n; ++i)
        if (keep[i]) max = std::max(max, double(x[i]));
      for (int i = 0; i < n; ++i)
        if (keep[i]) sum += std::exp(double(x[i]) - max);
      for (int i = 0; i < n; ++i) {
        const double want = keep[i] ? std::exp(double(x[i]) - max) / sum : 0.0;
        QVERIFY2(keep[i] ? std::abs(y[i] - want) <= 1e-6 * want + 1e-12 : y[i] == 0.0f,
                 qPrintable(QString("n %1, i %2: %3 vs %4").arg(n).arg(i).arg(y[i]).arg(want)));
      }
      std::vector<std::int32_t> none(n, 0);
      masked_softmax_inplace(y.data(), none.data(), n);
      QCOMPARE(y, std::vector<float>(n, 0.0f));
    }
  }
};

QTEST_GUILESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"
