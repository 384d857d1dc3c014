#pragma once
// TargetHead (internal to explain/): the head an ExplainTarget is a logit of, run forward on the encoder's output for
// B copies of one input, and backward from "the target logit of every copy" to the encoder's output. The same ops
// as BertModel's heads (forward) and BertTrainer's (backward), with a one-hot gradient at the target instead of a
// loss's.
//
// Shapes: B copies, T tokens each, N = B*T, H hidden, R rows the head reads, C its outputs per row.
#include <vector>

#include "explain/explain.h"

namespace bertscope {

// `n` copies of a one-sentence batch, to run side by side (integrated gradients' points, ranking heads' ablations).
TokenBatch copies_of(const TokenBatch& one, int n);

class TargetHead {
 public:
  // Throws Error when the model lacks the head or the target is out of range for a T-token input.
  TargetHead(BertModel& model, const ExplainTarget& target, int tokens);

  // The outputs the target's probability is a softmax over, per copy: (B, C): the vocabulary logits at the target
  // position (fill-mask), the label logits (classify; NER at the position), or the start or end logit of every
  // position (QA). column() is the target's place in a row.
  std::vector<float> forward(const Tensor& hidden, int copies);
  int columns() const { return columns_; }
  int column() const;
  // dhidden (N, H): the gradient of the sum of every copy's target logit (each copy's own) with respect to the
  // hidden states `forward` last read.
  Tensor backward();

 private:
  BertModel& model_;
  Backend& backend_;
  ExplainTarget target_;
  int tokens_ = 0, columns_ = 0, copies_ = 0;
  Activation activation_ = Activation::None;  // of the dense layer before the output (fill-mask, classify)
  std::vector<std::int32_t> host_rows_;  // (R) rows of hidden the head reads
  Tensor rows_, picked_, dense_pre_, dense_;  // (R), (R, H), (R, H) before and after the activation
  Tensor normed_;                             // (R, H) fill-mask: after the transform's LayerNorm
};

}  // namespace bertscope
