// Saliency: gradient x input and integrated gradients (Sundararajan et al. 2017) of one output logit with respect to
// each token's embedding sum (see explain.h for why that tensor). The gradient comes from the encoder's own
// backward pass (Encoder::input_gradient, the one BertTrainer trains with, minus the parameter gradients), started
// by TargetHead from a one-hot gradient at the target logit.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "explain/explain.h"
#include "explain/target_head.h"
#include "tasks/tasks.h"

namespace bertscope {

namespace {

struct GradientPass {
  std::vector<float> outputs;   // (B, C) the head's outputs per copy (TargetHead::forward)
  std::vector<float> gradient;  // (B*T, H) d(target logit of each copy) / d(its embedding sum)
};

// One forward and backward pass of `batch` from the embedding sums `embeddings` (B*T, H), taken over.
GradientPass gradient_pass(BertModel& model, const TokenBatch& batch, Tensor embeddings, TargetHead& head) {
  EncoderRun run;
  run.for_backward = true;  // keep the activations; no dropout (run.dropout stays 0)
  run.embedding_sum = &embeddings;
  EncoderOutput f = model.encode(batch, std::move(run));
  GradientPass pass;
  pass.outputs = head.forward(f.hidden, batch.batch);
  Tensor dhidden = head.backward();
  pass.gradient = model.to_host(model.encoder().input_gradient(f, dhidden));
  return pass;
}

// Per token: the L2 norm (norms) and the sum (sums) over the hidden units of attribution (T, H).
void summarise(const std::vector<double>& attribution, int T, int H, std::vector<float>& norms, std::vector<float>& sums) {
  norms.assign(static_cast<size_t>(T), 0.0f);
  sums.assign(static_cast<size_t>(T), 0.0f);
  for (int t = 0; t < T; ++t) {
    double squares = 0, sum = 0;
    for (int h = 0; h < H; ++h) {
      const double a = attribution[static_cast<size_t>(t) * H + h];
      squares += a * a;
      sum += a;
    }
    norms[static_cast<size_t>(t)] = static_cast<float>(std::sqrt(squares));
    sums[static_cast<size_t>(t)] = static_cast<float>(sum);
  }
}

}  // namespace

EmbeddingGradient embedding_gradient(BertModel& model, const Encoding& encoding, const ExplainTarget& target) {
  const TokenBatch one = single_batch(encoding);
  TargetHead head(model, target, one.seq_len);
  Tensor x = model.encoder().embed(one);  // (T, H)
  EmbeddingGradient g;
  g.embedding_sum = model.to_host(x);
  GradientPass pass = gradient_pass(model, one, std::move(x), head);
  check_finite(pass.gradient.data(), pass.gradient.size());
  g.gradient = std::move(pass.gradient);
  g.logit = pass.outputs.at(static_cast<size_t>(head.column()));
  return g;
}

Saliency saliency(BertModel& model, const Encoding& encoding, const ExplainTarget& target, const SaliencyOptions& options) {
  const int T = static_cast<int>(encoding.size()), H = model.config().hidden_size;
  const size_t TH = static_cast<size_t>(T) * H;
  Saliency s;
  if (options.method == SaliencyMethod::GradientInput) {
    const EmbeddingGradient g = embedding_gradient(model, encoding, target);
    std::vector<double> attribution(TH);  // (T, H) gradient * input
    for (size_t i = 0; i < TH; ++i) attribution[i] = static_cast<double>(g.gradient[i]) * g.embedding_sum[i];
    std::vector<float> sums;
    summarise(attribution, T, H, s.norms, sums);
    s.scores = s.norms;
    s.logit = g.logit;
    s.steps = 1;
    return s;
  }

  if (options.steps < 1 || options.steps > 10000) throw Error("integrated gradients takes 1 to 10000 steps, not " + std::to_string(options.steps));
  if (options.batch < 1) throw Error("internal: integrated gradients' batch must be positive");
  const TokenBatch one = single_batch(encoding);
  TargetHead head(model, target, T);
  Encoder& encoder = model.encoder();
  const std::vector<float> x = model.to_host(encoder.embed(one));  // (T, H)
  std::vector<float> base;                                          // (T, H) the baseline's embedding sums
  if (options.baseline == SaliencyBaseline::Pad) {
    std::vector<std::int32_t> words = one.ids;
    for (int t = 0; t < T; ++t)
      if (!encoding.tokens[static_cast<size_t>(t)].special) words[static_cast<size_t>(t)] = model.config().pad_token_id;
    base = model.to_host(encoder.embed(one, &words));
  } else {  // the input's sums less their word embeddings: position + type alone
    Tensor ids = model.backend().upload(std::span<const std::int32_t>(one.ids), {T}), words = model.backend().empty({T, H});
    model.backend().gather_rows(*encoder.weights().word, ids, words);
    base = model.to_host(words);
    for (size_t i = 0; i < TH; ++i) base[i] = x[i] - base[i];
  }

  // The path integral of the gradient from the baseline to x, by the midpoint rule: alpha = (k + 1/2) / steps.
  std::vector<double> gradient_sum(TH, 0.0);  // (T, H)
  for (int k0 = 0; k0 < options.steps; k0 += options.batch) {
    const int n = std::min(options.batch, options.steps - k0);
    std::vector<float> points(static_cast<size_t>(n) * TH);  // (n*T, H)
    for (int c = 0; c < n; ++c) {
      const float alpha = (static_cast<float>(k0 + c) + 0.5f) / static_cast<float>(options.steps);
      for (size_t i = 0; i < TH; ++i) points[static_cast<size_t>(c) * TH + i] = base[i] + alpha * (x[i] - base[i]);
    }
    Tensor embeddings = model.backend().upload(std::span<const float>(points), {static_cast<std::int64_t>(n) * T, H});
    const GradientPass pass = gradient_pass(model, copies_of(one, n), std::move(embeddings), head);
    check_finite(pass.gradient.data(), pass.gradient.size());
    for (int c = 0; c < n; ++c)
      for (size_t i = 0; i < TH; ++i) gradient_sum[i] += pass.gradient[static_cast<size_t>(c) * TH + i];
  }
  std::vector<double> attribution(TH);  // (T, H) (x - baseline) * mean gradient
  for (size_t i = 0; i < TH; ++i) attribution[i] = (static_cast<double>(x[i]) - base[i]) * gradient_sum[i] / options.steps;
  summarise(attribution, T, H, s.norms, s.scores);

  // f at both ends of the path (one forward pass of two copies: baseline, input), for the completeness check.
  std::vector<float> ends(base);
  ends.insert(ends.end(), x.begin(), x.end());
  Tensor ends_t = model.backend().upload(std::span<const float>(ends), {2 * static_cast<std::int64_t>(T), H});
  EncoderRun run;
  run.embedding_sum = &ends_t;
  const EncoderOutput f = model.encode(copies_of(one, 2), std::move(run));
  const std::vector<float> outputs = head.forward(f.hidden, 2);  // (2, C)
  const size_t C = static_cast<size_t>(head.columns()), col = static_cast<size_t>(head.column());
  s.baseline_logit = outputs[col];
  s.logit = outputs[C + col];
  double total = 0;
  for (float v : s.scores) total += v;
  s.completeness_error = std::fabs(total - (s.logit - s.baseline_logit));
  s.steps = options.steps;
  return s;
}

}  // namespace bertscope
