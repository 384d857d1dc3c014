#pragma once
// AdamW with Hugging Face's defaults and schedule: linear warm-up to the peak learning rate, then linear decay to
// zero at the last step; gradients clipped to a global norm first. Runs on the parameters' backend.
#include <memory>
#include <vector>

#include "train/bert_trainer.h"

namespace bertscope {

struct OptimizerOptions {
  float learning_rate = 5e-5f;  // peak
  float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float weight_decay = 0.01f;   // not applied to biases and LayerNorm weights
  float max_grad_norm = 1.0f;   // 0: no clipping
  int warmup_steps = 0;
  int total_steps = 0;          // the learning rate reaches 0 here; 0: constant after warm-up
};

class AdamW {
 public:
  AdamW(std::vector<std::unique_ptr<Param>>& params, Backend& backend, const OptimizerOptions& options);

  // One update of every trainable parameter from its grad. Returns the global gradient norm before clipping.
  // Throws (changing nothing) when the gradients are not finite.
  double step();

  float learning_rate_at(int step) const;  // the schedule, at 1-based step
  int steps_taken() const { return steps_; }
  void set_steps_taken(int steps) { steps_ = steps; }  // when resuming from a checkpoint
  const OptimizerOptions& options() const { return options_; }

 private:
  std::vector<std::unique_ptr<Param>>& params_;
  Backend& backend_;
  OptimizerOptions options_;
  Tensor norms_;  // (trainable parameters) sum of squares of each gradient
  int steps_ = 0;
};

}  // namespace bertscope
