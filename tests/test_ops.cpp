// Every Vulkan op against the CPU backend (the reference), on sizes that are not multiples of any tile or
// workgroup size, with validation layers on: any validation message fails the suite.
#include <QtTest>
#include <cmath>
#include <random>

#include "cpu/cpu_backend.h"
#include "core/error.h"
#include "gpu/kernel_variants.h"
#include "gpu/vulkan_backend.h"
#include "gpu/vulkan_context.h"
#include "model/tensor_file.h"
#include "test_support.h"

using namespace bertscope;

class TestOps : public QObject {
  Q_OBJECT
  CpuBackend cpu_;
  std::unique_ptr<Backend> gpu_;
  std::mt19937 rng_{1234};

  std::vector<float> random(std::int64_t n, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = d(rng_);
    return v;
  }
  std::vector<float> host(Backend& b, const Tensor& t) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    b.download(t, v);
    return v;
  }
  void compare(const std::vector<float>& want, const std::vector<float>& got, double tol, const char* what) {
    const double err = test::normalised_error(want, got);
    QVERIFY2(err <= tol, qPrintable(QString("%1: normalised error %2 > %3").arg(what).arg(err).arg(tol)));
  }

 private slots:
  void initTestCase() {
    QString why;
    gpu_ = test::vulkan_backend(&why);
    if (!gpu_) QSKIP(qPrintable(why));
    qInfo("Vulkan device: %s", gpu_->name().c_str());
    // CTest runs this suite once per kernel variant (tests/CMakeLists.txt sets BERTSCOPE_VK_VARIANTS).
    qInfo("kernel variants: %s", dynamic_cast<gpu::VulkanBackend&>(*gpu_).kernel_variants().describe().c_str());
  }

  void variant_overrides() {
    gpu::KernelVariants device;
    device.subgroups = true;
    device.subgroup_size = 32;
    device.linear_tile = 128;
    device.f16 = true;
    const gpu::DeviceSupport full{true, true};
    const auto forced = gpu::apply_variant_overrides(device, "subgroups=off,tile=32,f16=off", full);
    QCOMPARE(forced.subgroups, false);
    QCOMPARE(forced.linear_tile, 32u);
    QCOMPARE(forced.f16, false);
    QCOMPARE(gpu::apply_variant_overrides(device, "", full).linear_tile, 128u);  // nothing forced: the device's
    QCOMPARE(gpu::apply_variant_overrides(forced, "f16=on", full).f16, true);
    QVERIFY_THROWS_EXCEPTION(Error, gpu::apply_variant_overrides(device, "tile=99", full));
    QVERIFY_THROWS_EXCEPTION(Error, gpu::apply_variant_overrides(device, "subgroup=on", full));
    QVERIFY_THROWS_EXCEPTION(Error, gpu::apply_variant_overrides(device, "f16=yes", full));
    // Subgroups and f16 cannot be forced onto a device without them.
    QVERIFY_THROWS_EXCEPTION(Error, gpu::apply_variant_overrides(device, "subgroups=on", {false, true}));
    QVERIFY_THROWS_EXCEPTION(Error, gpu::apply_variant_overrides(device, "f16=on", {true, false}));
  }

  void linear_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("k");
    QTest::addColumn<int>("m");
    QTest::addColumn<int>("act");
    QTest::addColumn<bool>("bias");
    QTest::newRow("1x1x1") << 1 << 1 << 1 << 0 << true;
    QTest::newRow("3x17x5 gelu") << 3 << 17 << 5 << 1 << true;
    QTest::newRow("65x130x67 no bias") << 65 << 130 << 67 << 0 << false;
    QTest::newRow("70x33x129 tanh") << 70 << 33 << 129 << 2 << true;
    QTest::newRow("40x64x64 relu") << 40 << 64 << 64 << 3 << true;
    QTest::newRow("128x96x200 gelu") << 128 << 96 << 200 << 1 << true;
    QTest::newRow("2x64x1001 (vocab-like)") << 2 << 64 << 1001 << 0 << true;
  }
  void linear() {
    QFETCH(int, n); QFETCH(int, k); QFETCH(int, m); QFETCH(int, act); QFETCH(bool, bias);
    auto x = random(std::int64_t(n) * k), w = random(std::int64_t(m) * k, 0.3f), b = random(m);
    Tensor out_c = cpu_.empty({n, m}), out_g = gpu_->empty({n, m});
    Tensor bc = cpu_.upload(b, {m}), bg = gpu_->upload(b, {m});
    cpu_.linear(cpu_.upload(x, {n, k}), cpu_.upload(w, {m, k}), bias ? &bc : nullptr, Activation(act), out_c);
    gpu_->linear(gpu_->upload(x, {n, k}), gpu_->upload(w, {m, k}), bias ? &bg : nullptr, Activation(act), out_g);
    compare(host(cpu_, out_c), host(*gpu_, out_g), 1e-5, "linear");
  }

  // An inference weight (Backend::upload_inference_weight) through `linear`: F16 with the f16 variant (then
  // tests/CMakeLists.txt's f16=on run and the default run on lavapipe), F32 without (the f16=off run).
  void linear_inference_weight_data() { linear_data(); }
  void linear_inference_weight() {
    QFETCH(int, n); QFETCH(int, k); QFETCH(int, m); QFETCH(int, act); QFETCH(bool, bias);
    auto x = random(std::int64_t(n) * k), w = random(std::int64_t(m) * k, 0.3f), b = random(m);
    const bool f16 = dynamic_cast<gpu::VulkanBackend&>(*gpu_).kernel_variants().f16;
    Tensor wg = gpu_->upload_inference_weight(w, {m, k}, nullptr);
    QCOMPARE(wg.dtype(), f16 ? DType::F16 : DType::F32);
    // What the GPU holds: w rounded to F16 (round to nearest even), or w itself.
    std::vector<float> stored = w;
    if (f16)
      for (float& v : stored) v = half_to_float(float_to_half(v));
    QCOMPARE(host(*gpu_, wg), stored);  // a download gives the stored values back as float32
    Tensor out_g = gpu_->empty({n, m}), bg = gpu_->upload(b, {m}), xg = gpu_->upload(x, {n, k});
    gpu_->linear(xg, wg, bias ? &bg : nullptr, Activation(act), out_g);
    const auto got = host(*gpu_, out_g);
    auto reference = [&](const std::vector<float>& weights) {
      Tensor out_c = cpu_.empty({n, m}), bc = cpu_.upload(b, {m});
      cpu_.linear(cpu_.upload(x, {n, k}), cpu_.upload(weights, {m, k}), bias ? &bc : nullptr, Activation(act), out_c);
      return host(cpu_, out_c);
    };
    // Against the CPU with the same (rounded) weights: only the order of the float32 sums differs, as for `linear`.
    compare(reference(stored), got, 1e-5, "linear, stored weights");
    // Against the CPU with the full-precision weights, output by output: rounding to F16 moves a weight by at most
    // 2^-11 = 4.9e-4 of itself (2^-25 absolutely, below F16's normal range), so a sum moves by at most 2^-11 of
    // sum_k |x_k w_k| (+ 2^-25 sum_k |x_k|), and the activation by at most 1.13 times that (GELU's steepest slope;
    // tanh and ReLU: 1). On top, 1e-5 of the terms' size for float32 sums in another order.
    const auto want = reference(w);
    for (int r = 0; r < n; ++r)
      for (int c = 0; c < m; ++c) {
        double terms = 0, inputs = 0;
        for (int j = 0; j < k; ++j) {
          terms += std::fabs(double(x[size_t(r) * k + j]) * w[size_t(c) * k + j]);
          inputs += std::fabs(x[size_t(r) * k + j]);
        }
        const double scale = terms + (bias ? std::fabs(b[size_t(c)]) : 0.0);
        const double rounding = f16 ? 1.13 * (std::ldexp(terms, -11) + std::ldexp(inputs, -25)) : 0.0;
        const double bound = rounding + 1e-5 * std::max(1.0, scale);
        const double err = std::fabs(double(got[size_t(r) * m + c]) - want[size_t(r) * m + c]);
        if (err > bound)
          QFAIL(qPrintable(QString("linear, full-precision weights: output (%1, %2) off by %3 > %4")
                               .arg(r).arg(c).arg(err).arg(bound)));
      }

    // Backward through the same weight (saliency does, on an inference model): dx = dy w, accumulated once.
    auto dy = random(std::int64_t(n) * m);
    Tensor dxg = gpu_->empty({n, k}), dxc = cpu_.empty({n, k});
    gpu_->fill(dxg, 0.5f);
    cpu_.fill(dxc, 0.5f);
    gpu_->linear_backward_input(gpu_->upload(dy, {n, m}), wg, true, dxg);
    cpu_.linear_backward_input(cpu_.upload(dy, {n, m}), cpu_.upload(stored, {m, k}), true, dxc);
    compare(host(cpu_, dxc), host(*gpu_, dxg), 1e-5, "linear_backward_input, stored weights");
    // No other op takes an F16 tensor: a mistake is an error, not a silent misread.
    if (f16) {
      Tensor rows = gpu_->upload(std::span<const std::int32_t>(std::vector<std::int32_t>{0}), {1});
      Tensor out = gpu_->empty({1, k});
      QVERIFY_THROWS_EXCEPTION(Error, gpu_->gather_rows(wg, rows, out));
    }
  }

  void layer_norm_data() {
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("hidden");
    QTest::addColumn<bool>("residual");
    QTest::addColumn<bool>("in_place");
    QTest::newRow("1x1") << 1 << 1 << false << false;
    QTest::newRow("5x37 residual") << 5 << 37 << true << false;
    QTest::newRow("9x300 in place") << 9 << 300 << false << true;
    QTest::newRow("130x129 residual in place") << 130 << 129 << true << true;
  }
  void layer_norm() {
    QFETCH(int, rows); QFETCH(int, hidden); QFETCH(bool, residual); QFETCH(bool, in_place);
    auto x = random(std::int64_t(rows) * hidden, 3.0f), r = random(std::int64_t(rows) * hidden);
    auto g = random(hidden), b = random(hidden);
    std::vector<float> results[2];
    Backend* backends[2] = {&cpu_, gpu_.get()};
    for (int i = 0; i < 2; ++i) {
      Backend& be = *backends[i];
      Tensor tx = be.upload(x, {rows, hidden}), tr = be.upload(r, {rows, hidden});
      Tensor out = in_place ? Tensor() : be.empty({rows, hidden});
      Tensor& dst = in_place ? tx : out;
      be.layer_norm(tx, residual ? &tr : nullptr, be.upload(g, {hidden}), be.upload(b, {hidden}), 1e-12f, dst);
      results[i] = host(be, dst);
    }
    compare(results[0], results[1], 1e-5, "layer_norm");
  }

  void attention_data() {
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("seq");
    QTest::addColumn<int>("heads");
    QTest::addColumn<int>("head_dim");
    QTest::newRow("1x1x1x1") << 1 << 1 << 1 << 1;
    QTest::newRow("2x13x3x8 padded") << 2 << 13 << 3 << 8;
    QTest::newRow("3x131x2x20 padded") << 3 << 131 << 2 << 20;
  }
  void attention() {
    QFETCH(int, batch); QFETCH(int, seq); QFETCH(int, heads); QFETCH(int, head_dim);
    const int H = heads * head_dim;
    const std::int64_t N = std::int64_t(batch) * seq;
    auto q = random(N * H), k = random(N * H), v = random(N * H);
    std::vector<std::int32_t> mask(static_cast<size_t>(N), 1);
    for (int b = 1; b < batch; ++b)  // later sentences shorter: padding at the end
      for (int t = seq - std::min(seq - 1, 5 * b); t < seq; ++t) mask[b * seq + t] = 0;
    std::vector<float> probs[2], context[2];
    Backend* backends[2] = {&cpu_, gpu_.get()};
    for (int i = 0; i < 2; ++i) {
      Backend& be = *backends[i];
      Tensor p = be.empty({batch, heads, seq, seq}), c = be.empty({N, H});
      Tensor tv = be.upload(v, {N, H});
      be.attention_probs(be.upload(q, {N, H}), be.upload(k, {N, H}), be.upload(std::span<const std::int32_t>(mask), {batch, seq}), heads, p);
      be.attention_context(p, tv, heads, c);
      probs[i] = host(be, p);
      context[i] = host(be, c);
    }
    compare(probs[0], probs[1], 1e-5, "attention_probs");
    compare(context[0], context[1], 1e-5, "attention_context");
    for (int b = 1; b < batch; ++b)  // padded keys get exactly zero probability
      for (int j = 0; j < seq; ++j)
        if (!mask[b * seq + j]) QCOMPARE(probs[1][((b * heads) * seq) * seq + j], 0.0f);
  }

  void embed_and_gather() {
    const int V = 37, P = 20, Y = 2, H = 19, B = 2, T = 7;
    auto word = random(V * H), pos = random(P * H), type = random(Y * H);
    std::vector<std::int32_t> ids, positions, types, rows = {13, 0, 5};
    for (int i = 0; i < B * T; ++i) {
      ids.push_back((i * 7) % V);
      positions.push_back(2 + (i * 3) % (P - 2));  // not simply 0..T-1: RoBERTa's start after the padding index
      types.push_back(i % 2);
    }
    std::vector<float> emb[2], gathered[2];
    Backend* backends[2] = {&cpu_, gpu_.get()};
    for (int i = 0; i < 2; ++i) {
      Backend& be = *backends[i];
      Tensor out = be.empty({B * T, H}), g = be.empty({3, H});
      be.embed(be.upload(std::span<const std::int32_t>(ids), {B * T}), be.upload(std::span<const std::int32_t>(positions), {B * T}),
               be.upload(std::span<const std::int32_t>(types), {B * T}), be.upload(word, {V, H}), be.upload(pos, {P, H}),
               be.upload(type, {Y, H}), out);
      be.gather_rows(out, be.upload(std::span<const std::int32_t>(rows), {3}), g);
      emb[i] = host(be, out);
      gathered[i] = host(be, g);
    }
    compare(emb[0], emb[1], 1e-6, "embed");
    compare(gathered[0], gathered[1], 0, "gather_rows");  // exact copies
  }

  // The harness must be able to fail: an invalid call on a validated context is counted.
  void validation_layer_catches_misuse() {
    gpu::VulkanContext ctx(-1, /*validation=*/true);
    VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = 0;  // invalid: VUID-VkBufferCreateInfo-size-00912
    bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
    VkBuffer buffer = VK_NULL_HANDLE;
    if (vkCreateBuffer(ctx.device(), &bi, nullptr, &buffer) == VK_SUCCESS && buffer) vkDestroyBuffer(ctx.device(), buffer, nullptr);
    QVERIFY(ctx.validation_message_count() > 0);
  }

  void cleanupTestCase() {
    if (!gpu_) return;
    const int messages = test::validation_messages(*gpu_);
    QVERIFY2(messages == 0, qPrintable(QString::fromStdString("Vulkan validation messages:\n" + test::validation_report(*gpu_))));
  }
};

QTEST_GUILESS_MAIN(TestOps)
#include "test_ops.moc"
