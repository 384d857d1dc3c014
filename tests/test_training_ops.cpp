// The training ops. Every backward pass of the CPU backend against central finite differences of its own forward
// ops, and every Vulkan training op against the CPU backend (validation layers on), on sizes that are not
// multiples of any tile or workgroup size.
#include <QtTest>
#include <functional>
#include <random>

#include "cpu/cpu_backend.h"
#include "test_support.h"

using namespace bertscope;
using Host = std::vector<float>;

namespace {

// Largest |fd - analytic| over sampled positions, relative to the largest analytic gradient: the gradient of
// L(x) = sum_i f(x)_i * r_i, with f evaluated in float32 (so ~1e-3 is the floor of what differences can show).
double fd_error(Host x, const std::function<Host(const Host&)>& f, const Host& r, const Host& analytic,
                std::mt19937& rng, float eps = 1e-2f, int samples = 24) {
  auto loss = [&](const Host& at) {
    const Host y = f(at);
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i) s += double(y[i]) * r[i];
    return s;
  };
  double scale = 1e-6, worst = 0;
  for (float g : analytic) scale = std::max(scale, double(std::fabs(g)));
  std::uniform_int_distribution<size_t> pick(0, x.size() - 1);
  for (int s = 0; s < samples; ++s) {
    const size_t i = pick(rng);
    const float keep = x[i];
    x[i] = keep + eps;
    const double up = loss(x);
    x[i] = keep - eps;
    const double down = loss(x);
    x[i] = keep;
    worst = std::max(worst, std::fabs((up - down) / (2.0 * eps) - analytic[i]) / scale);
  }
  return worst;
}

}  // namespace

class TestTrainingOps : public QObject {
  Q_OBJECT
  CpuBackend cpu_;
  std::unique_ptr<Backend> gpu_;
  QString noGpu_;
  std::mt19937 rng_{99};

  Host random(std::int64_t n, float scale = 1.0f) {
    std::normal_distribution<float> d(0.0f, scale);
    Host v(static_cast<size_t>(n));
    for (auto& x : v) x = d(rng_);
    return v;
  }
  static Host host(Backend& b, const Tensor& t) {
    Host v(static_cast<size_t>(t.numel()));
    b.download(t, v);
    return v;
  }
  // Runs `op` on the CPU and (when there is one) on Vulkan; the outputs must agree within `tol`.
  void both(const char* what, const std::function<std::vector<Host>(Backend&)>& op, double tol = 1e-5) {
    const std::vector<Host> want = op(cpu_);
    if (!gpu_) return;
    const std::vector<Host> got = op(*gpu_);
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      const double err = test::normalised_error(want[i], got[i]);
      QVERIFY2(err <= tol, qPrintable(QString("%1 output %2: Vulkan vs CPU error %3 > %4").arg(what).arg(i).arg(err).arg(tol)));
    }
    QCOMPARE(test::validation_messages(*gpu_), 0);
  }
  void checkFd(const char* what, double err, double tol = 1e-4) {
    qInfo("%s: finite-difference error %.2e", what, err);
    QVERIFY2(err <= tol, qPrintable(QString("%1: finite-difference error %2 > %3").arg(what).arg(err).arg(tol)));
  }

 private slots:
  void initTestCase() {
    gpu_ = test::vulkan_backend(&noGpu_);
    if (!gpu_) qWarning("Vulkan comparisons skipped: %s", qPrintable(noGpu_));
  }

  void activation() {
    for (Activation act : {Activation::Gelu, Activation::Tanh, Activation::Relu}) {
      const std::int64_t n = 1003;
      Host x = random(n, 2.0f);
      const Host r = random(n);
      if (act == Activation::Relu)  // keep finite differences off ReLU's kink at 0
        for (float& v : x) v += v < 0 ? -0.05f : 0.05f;
      Tensor dx = cpu_.empty({n});
      cpu_.activation_backward(cpu_.upload(x, {n}), cpu_.upload(r, {n}), act, dx);
      checkFd("activation", fd_error(x, [&](const Host& at) {
        Tensor y = cpu_.empty({n});
        cpu_.activate(cpu_.upload(at, {n}), act, y);
        return host(cpu_, y);
      }, r, host(cpu_, dx), rng_));
      both("activation", [&](Backend& b) {
        Tensor y = b.empty({n}), g = b.empty({n});
        b.activate(b.upload(x, {n}), act, y);
        b.activation_backward(b.upload(x, {n}), b.upload(r, {n}), act, g);
        return std::vector<Host>{host(b, y), host(b, g)};
      });
    }
  }

  void linear() {
    const int N = 37, K = 70, M = 65;
    const Host x = random(N * K), w = random(M * K, 0.3f), bias = random(M), r = random(N * M);
    auto run = [&](Backend& b, bool accumulate) {
      Tensor dx = b.upload(Host(size_t(N * K), 0.5f), {N, K});  // accumulate adds onto 0.5
      Tensor dw = b.upload(Host(size_t(M * K), 0.25f), {M, K}), db = b.upload(Host(size_t(M), 1.0f), {M});
      Tensor dy = b.upload(r, {N, M});
      b.linear_backward_input(dy, b.upload(w, {M, K}), accumulate, dx);
      b.linear_backward_weight(dy, b.upload(x, {N, K}), dw, &db);
      return std::vector<Host>{host(b, dx), host(b, dw), host(b, db)};
    };
    auto grads = run(cpu_, false);
    for (auto& g : grads[1]) g -= 0.25f;  // the weight and bias gradients accumulate onto 0.25 and 1
    for (auto& g : grads[2]) g -= 1.0f;
    auto forward = [&](const Host& xx, const Host& ww, const Host& bb) {
      Tensor y = cpu_.empty({N, M}), bt = cpu_.upload(bb, {M});
      cpu_.linear(cpu_.upload(xx, {N, K}), cpu_.upload(ww, {M, K}), &bt, Activation::None, y);
      return host(cpu_, y);
    };
    checkFd("linear dx", fd_error(x, [&](const Host& at) { return forward(at, w, bias); }, r, grads[0], rng_));
    checkFd("linear dw", fd_error(w, [&](const Host& at) { return forward(x, at, bias); }, r, grads[1], rng_));
    checkFd("linear db", fd_error(bias, [&](const Host& at) { return forward(x, w, at); }, r, grads[2], rng_));
    both("linear backward", [&](Backend& b) { return run(b, false); });
    both("linear backward accumulate", [&](Backend& b) { return run(b, true); });
  }

  void layerNorm() {
    const int N = 9, H = 131;
    const Host x = random(N * H, 2.0f), gamma = random(H), beta = random(H), r = random(N * H);
    auto run = [&](Backend& b) {
      Tensor dx = b.empty({N, H}), dg = b.empty({H}), db = b.empty({H});
      b.fill(dg, 0.0f);  // the parameter gradients accumulate
      b.fill(db, 0.0f);
      b.layer_norm_backward(b.upload(x, {N, H}), b.upload(r, {N, H}), b.upload(gamma, {H}), 1e-12f, dx, dg, db);
      return std::vector<Host>{host(b, dx), host(b, dg), host(b, db)};
    };
    const auto grads = run(cpu_);
    auto forward = [&](const Host& xx, const Host& gg, const Host& bb) {
      Tensor y = cpu_.empty({N, H});
      cpu_.layer_norm(cpu_.upload(xx, {N, H}), nullptr, cpu_.upload(gg, {H}), cpu_.upload(bb, {H}), 1e-12f, y);
      return host(cpu_, y);
    };
    checkFd("layer_norm dx", fd_error(x, [&](const Host& at) { return forward(at, gamma, beta); }, r, grads[0], rng_));
    checkFd("layer_norm dgamma", fd_error(gamma, [&](const Host& at) { return forward(x, at, beta); }, r, grads[1], rng_));
    checkFd("layer_norm dbeta", fd_error(beta, [&](const Host& at) { return forward(x, gamma, at); }, r, grads[2], rng_));
    both("layer_norm backward", run);
  }

  void attention() {
    const int B = 2, T = 7, A = 3, D = 5, H = A * D, N = B * T;
    const Host q = random(N * H), k = random(N * H), v = random(N * H), r = random(N * H);
    std::vector<std::int32_t> mask(size_t(B * T), 1);
    mask[size_t(T + 5)] = mask[size_t(T + 6)] = 0;  // the second sentence is padded
    auto forward = [&](Backend& b, const Host& qq, const Host& kk, const Host& vv) {
      Tensor probs = b.empty({B, A, T, T}), context = b.empty({N, H});
      b.attention_probs(b.upload(qq, {N, H}), b.upload(kk, {N, H}), b.upload(std::span<const std::int32_t>(mask), {B, T}), A, probs);
      b.attention_context(probs, b.upload(vv, {N, H}), A, context);
      return std::make_pair(std::move(probs), std::move(context));
    };
    auto run = [&](Backend& b) {
      auto [probs, context] = forward(b, q, k, v);
      Tensor dprobs = b.empty({B, A, T, T}), dq = b.empty({N, H}), dk = b.empty({N, H}), dv = b.empty({N, H});
      Tensor Q = b.upload(q, {N, H}), K = b.upload(k, {N, H}), V = b.upload(v, {N, H});
      b.attention_context_backward(probs, V, b.upload(r, {N, H}), A, dprobs, dv);
      b.attention_probs_backward(Q, K, probs, dprobs, A, dq, dk);
      return std::vector<Host>{host(b, dq), host(b, dk), host(b, dv)};
    };
    const auto grads = run(cpu_);
    auto context_of = [&](const Host& qq, const Host& kk, const Host& vv) { return host(cpu_, forward(cpu_, qq, kk, vv).second); };
    checkFd("attention dq", fd_error(q, [&](const Host& at) { return context_of(at, k, v); }, r, grads[0], rng_));
    checkFd("attention dk", fd_error(k, [&](const Host& at) { return context_of(q, at, v); }, r, grads[1], rng_));
    checkFd("attention dv", fd_error(v, [&](const Host& at) { return context_of(q, k, at); }, r, grads[2], rng_));
    both("attention backward", run);
  }

  void embeddings() {
    const int V = 11, P = 9, H = 13, N = 12;  // two sentences of six tokens
    const std::vector<std::int32_t> ids = {1, 5, 5, 2, 10, 5, 0, 3, 3, 3, 7, 1}, types = {0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1};
    const std::vector<std::int32_t> positions = {2, 3, 4, 5, 1, 1, 2, 3, 4, 5, 6, 7};  // RoBERTa-style, padding at 1
    const Host word = random(V * H), pos = random(P * H), type = random(2 * H), r = random(N * H);
    auto run = [&](Backend& b) {
      Tensor dw = b.empty({V, H}), dp = b.empty({P, H}), dt = b.empty({2, H});
      b.fill(dw, 0.0f);
      b.fill(dp, 0.0f);
      b.fill(dt, 0.0f);
      b.embed_backward(b.upload(r, {N, H}), b.upload(std::span<const std::int32_t>(ids), {N}),
                       b.upload(std::span<const std::int32_t>(positions), {N}), b.upload(std::span<const std::int32_t>(types), {N}),
                       dw, dp, dt);
      return std::vector<Host>{host(b, dw), host(b, dp), host(b, dt)};
    };
    const auto grads = run(cpu_);
    auto forward = [&](const Host& w, const Host& p, const Host& t) {
      Tensor y = cpu_.empty({N, H});
      cpu_.embed(cpu_.upload(std::span<const std::int32_t>(ids), {N}), cpu_.upload(std::span<const std::int32_t>(positions), {N}),
                 cpu_.upload(std::span<const std::int32_t>(types), {N}), cpu_.upload(w, {V, H}), cpu_.upload(p, {P, H}),
                 cpu_.upload(t, {2, H}), y);
      return host(cpu_, y);
    };
    checkFd("embed dword", fd_error(word, [&](const Host& at) { return forward(at, pos, type); }, r, grads[0], rng_, 1e-2f, 60));
    checkFd("embed dposition", fd_error(pos, [&](const Host& at) { return forward(word, at, type); }, r, grads[1], rng_));
    checkFd("embed dtype", fd_error(type, [&](const Host& at) { return forward(word, pos, at); }, r, grads[2], rng_));
    both("embed backward", run);
  }

  void gatherAndScatter() {
    const int N = 10, H = 7, R = 4;
    const std::vector<std::int32_t> rows = {7, 0, 3, 9};
    const Host x = random(N * H), r = random(R * H);
    auto run = [&](Backend& b) {
      Tensor dx = b.upload(Host(size_t(N * H), 0.0f), {N, H});
      b.scatter_add_rows(b.upload(r, {R, H}), b.upload(std::span<const std::int32_t>(rows), {R}), dx);
      return std::vector<Host>{host(b, dx)};
    };
    checkFd("gather_rows", fd_error(x, [&](const Host& at) {
      Tensor y = cpu_.empty({R, H});
      cpu_.gather_rows(cpu_.upload(at, {N, H}), cpu_.upload(std::span<const std::int32_t>(rows), {R}), y);
      return host(cpu_, y);
    }, r, run(cpu_)[0], rng_, 1e-2f, 40));
    both("scatter_add_rows", run);
  }

  void dropout() {
    const std::int64_t n = 100000;
    const Host x = random(n);
    auto run = [&](Backend& b) {
      Tensor y = b.empty({n});
      b.dropout(b.upload(x, {n}), 0.1f, 1234u, y);
      return std::vector<Host>{host(b, y)};
    };
    const Host y = run(cpu_)[0];
    std::int64_t dropped = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      if (y[size_t(i)] == 0.0f) ++dropped;
      else QVERIFY(std::fabs(y[size_t(i)] - x[size_t(i)] / 0.9f) < 1e-6f);
    }
    QVERIFY2(std::abs(double(dropped) / n - 0.1) < 0.005, qPrintable(QString("dropped %1").arg(double(dropped) / n)));
    both("dropout", run, 0.0);  // the same hash: the very same mask
  }

  void crossEntropy() {
    const int N = 6, C = 1001;
    const Host z = random(N * C, 3.0f);
    const std::vector<std::int32_t> labels = {0, 1000, -100, 17, 17, 500};
    auto run = [&](Backend& b) {
      Tensor losses = b.empty({N}), dz = b.empty({N, C});
      b.cross_entropy(b.upload(z, {N, C}), b.upload(std::span<const std::int32_t>(labels), {N}), 0.2f, losses, dz);
      return std::vector<Host>{host(b, losses), host(b, dz)};
    };
    const auto out = run(cpu_);
    QCOMPARE(out[0][2], 0.0f);  // ignored row
    checkFd("cross_entropy", fd_error(z, [&](const Host& at) {
      Tensor losses = cpu_.empty({N}), dz = cpu_.empty({N, C});
      cpu_.cross_entropy(cpu_.upload(at, {N, C}), cpu_.upload(std::span<const std::int32_t>(labels), {N}), 1.0f, losses, dz);
      return host(cpu_, losses);
    }, Host(size_t(N), 0.2f), out[1], rng_, 1e-2f, 60));
    both("cross_entropy", run);
  }

  void adamwAndNorms() {
    const std::int64_t n = 777;
    const Host w = random(n), g = random(n);
    AdamWStep step;
    step.lr = 1e-2f;
    step.weight_decay = 0.01f;
    step.grad_scale = 0.5f;
    auto run = [&](Backend& b) {
      Tensor p = b.upload(w, {n}), m = b.empty({n}), v = b.empty({n}), sums = b.empty({3}), grad = b.upload(g, {n});
      b.fill(m, 0.0f);
      b.fill(v, 0.0f);
      for (int s = 1; s <= 3; ++s) {
        step.step = s;
        b.adamw(p, grad, m, v, step);
      }
      b.sum_squares(grad, sums, 2);
      return std::vector<Host>{host(b, p), host(b, m), host(b, v), {host(b, sums)[2]}};
    };
    const auto out = run(cpu_);
    // Against AdamW written out in double precision.
    for (std::int64_t i = 0; i < n; i += 97) {
      double x = w[size_t(i)], m = 0, v = 0;
      const double gi = g[size_t(i)] * 0.5;
      for (int s = 1; s <= 3; ++s) {
        m = 0.9 * m + 0.1 * gi;
        v = 0.999 * v + 0.001 * gi * gi;
        x -= 1e-2 * 0.01 * x;
        x -= 1e-2 * (m / (1 - std::pow(0.9, s))) / (std::sqrt(v / (1 - std::pow(0.999, s))) + 1e-8);
      }
      QVERIFY2(std::fabs(x - out[0][size_t(i)]) < 1e-5, qPrintable(QString("adamw element %1").arg(i)));
    }
    double sq = 0;
    for (float x : g) sq += double(x) * x;
    QVERIFY(std::fabs(sq - out[3][0]) < 1e-3 * sq);
    both("adamw + sum_squares", run);
  }
};

QTEST_GUILESS_MAIN(TestTrainingOps)
#include "test_training_ops.moc"
