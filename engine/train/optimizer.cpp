#include "train/optimizer.h"

#include <cmath>

#include "core/error.h"

namespace bertscope {

AdamW::AdamW(std::vector<std::unique_ptr<Param>>& params, Backend& backend, const OptimizerOptions& options)
    : params_(params), backend_(backend), options_(options) {
  if (!(options_.learning_rate > 0)) throw Error("the learning rate must be positive");
  int trainable = 0;
  for (auto& p : params_) {
    if (!p->trainable) continue;
    ++trainable;
    if (p->m.numel() != p->value.numel()) {  // moments start at zero
      p->m = backend_.empty(p->value.shape());
      p->v = backend_.empty(p->value.shape());
      backend_.fill(p->m, 0.0f);
      backend_.fill(p->v, 0.0f);
    }
  }
  norms_ = backend_.empty({std::max(1, trainable)});
}

float AdamW::learning_rate_at(int step) const {
  const float peak = options_.learning_rate;
  if (step <= options_.warmup_steps) return peak * static_cast<float>(step) / static_cast<float>(std::max(1, options_.warmup_steps));
  if (options_.total_steps <= 0) return peak;
  const float left = static_cast<float>(options_.total_steps - step) / static_cast<float>(std::max(1, options_.total_steps - options_.warmup_steps));
  return peak * std::max(0.0f, left);
}

double AdamW::step() {
  int slot = 0;
  for (auto& p : params_)
    if (p->trainable) backend_.sum_squares(p->grad, norms_, slot++);
  std::vector<float> sums(static_cast<size_t>(norms_.numel()));
  backend_.download(norms_, sums);
  double total = 0;
  for (int i = 0; i < slot; ++i) total += sums[static_cast<size_t>(i)];
  const double norm = std::sqrt(total);
  if (!std::isfinite(norm)) throw Error("the gradients are not finite (the loss diverged); try a lower learning rate");

  AdamWStep s;
  s.step = ++steps_;
  s.lr = learning_rate_at(s.step);
  s.beta1 = options_.beta1;
  s.beta2 = options_.beta2;
  s.eps = options_.eps;
  s.grad_scale = options_.max_grad_norm > 0 && norm > options_.max_grad_norm ? static_cast<float>(options_.max_grad_norm / norm) : 1.0f;
  for (auto& p : params_) {
    if (!p->trainable) continue;
    s.weight_decay = p->decay ? options_.weight_decay : 0.0f;
    backend_.adamw(p->value, p->grad, p->m, p->v, s);
  }
  return norm;
}

}  // namespace bertscope
