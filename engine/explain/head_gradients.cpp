#include "explain/head_gradients.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "explain/target_head.h"
#include "tasks/tasks.h"

namespace bertscope {

HeadGradients head_gradients(BertModel& model, const Encoding& encoding, const ExplainTarget& target) {
  const int L = model.config().num_hidden_layers, A = model.config().num_attention_heads;
  const int H = model.config().hidden_size, D = H / A;
  const HeadMask gates = model.head_mask().empty() ? HeadMask::all_on(L, A) : model.head_mask();
  HeadGradients g;
  g.layers = L;
  g.heads = A;
  g.gradient.assign(static_cast<size_t>(L) * A, 0.0);
  g.already_off.assign(static_cast<size_t>(L) * A, false);

  const TokenBatch one = single_batch(encoding);
  const int T = one.seq_len;
  TargetHead head(model, target, T);
  EncoderRun run;
  run.for_backward = true;  // keep the activations; no dropout
  // context_h = gate_h * P_h V_h, so d(logit)/d(gate_h) = sum over tokens and the head's D columns of
  // (P_h V_h) * dcontext_h = (context_h * dcontext_h) / gate_h. A head at 0 gets 0 (its P_h V_h is not kept).
  run.on_context_gradient = [&](int layer, const Tensor& context, const Tensor& dcontext) {
    const std::vector<float> c = model.to_host(context), dc = model.to_host(dcontext);  // (T, H) each
    for (int a = 0; a < A; ++a) {
      const float gate = gates.at(layer, a);
      if (gate == 0.0f) continue;
      double sum = 0;
      for (int t = 0; t < T; ++t)
        for (int d = 0; d < D; ++d) {
          const size_t i = static_cast<size_t>(t) * H + static_cast<size_t>(a) * D + d;
          sum += static_cast<double>(c[i]) * dc[i];
        }
      g.gradient[static_cast<size_t>(layer) * A + a] = sum / gate;
    }
  };
  EncoderOutput f = model.encode(one, std::move(run));
  const std::vector<float> outputs = head.forward(f.hidden, 1);
  g.logit = outputs.at(static_cast<size_t>(head.column()));
  Tensor dhidden = head.backward();
  model.encoder().input_gradient(f, dhidden);  // runs the backward pass; its hook fills g.gradient
  for (double v : g.gradient)
    if (!std::isfinite(v)) throw Error("the model's outputs are not finite numbers (NaN or infinity); its weights may be broken");

  for (int l = 0; l < L; ++l)
    for (int a = 0; a < A; ++a) {
      const bool off = gates.at(l, a) == 0.0f;
      g.already_off[static_cast<size_t>(l) * A + a] = off;
      if (!off) g.ranking.emplace_back(l, a);
    }
  std::stable_sort(g.ranking.begin(), g.ranking.end(), [&](const auto& x, const auto& y) {
    return std::fabs(g.gradient[static_cast<size_t>(x.first) * A + x.second]) >
           std::fabs(g.gradient[static_cast<size_t>(y.first) * A + y.second]);
  });
  return g;
}

}  // namespace bertscope
