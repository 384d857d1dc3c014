#pragma once
// Gradient-based head importance (Michel, Levy and Neubig 2019, "Are Sixteen Heads Really Better than One?"): the
// derivative of the target's logit with respect to each head's gate in Hugging Face's head_mask, from one forward
// and one backward pass on whichever backend runs the model (on a GPU, that is the GPU's backward pass).
// To first order it is the logit change of switching the head off, which rank_heads measures exactly with one
// ablation per head; Michel et al. rank heads by its magnitude (summed over a dataset; here, the one input).
#include <utility>
#include <vector>

#include "explain/explain.h"

namespace bertscope {

struct HeadGradients {
  int layers = 0, heads = 0;
  double logit = 0;                          // the target's logit, with the model's head mask
  std::vector<double> gradient;              // (L, A) d(target logit) / d(gate), at the model's mask; 0 when off
  std::vector<bool> already_off;             // (L, A) switched off by the model's head mask
  std::vector<std::pair<int, int>> ranking;  // (layer, head) by |gradient|, largest first; heads already off left out
};

HeadGradients head_gradients(BertModel& model, const Encoding& encoding, const ExplainTarget& target);

}  // namespace bertscope
