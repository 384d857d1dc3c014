#include "explain/target_head.h"

#include "core/error.h"

namespace bertscope {

namespace {
void check_range(int value, int count, const std::string& what) {
  if (value < 0 || value >= count)
    throw Error(what + " " + std::to_string(value) + " is out of range 0.." + std::to_string(count - 1));
}
}  // namespace

TokenBatch copies_of(const TokenBatch& one, int n) {
  TokenBatch b;
  b.batch = n;
  b.seq_len = one.seq_len;
  for (int i = 0; i < n; ++i) {
    b.ids.insert(b.ids.end(), one.ids.begin(), one.ids.end());
    b.type_ids.insert(b.type_ids.end(), one.type_ids.begin(), one.type_ids.end());
    b.mask.insert(b.mask.end(), one.mask.begin(), one.mask.end());
  }
  return b;
}

TargetHead::TargetHead(BertModel& model, const ExplainTarget& target, int tokens)
    : model_(model), backend_(model.backend()), target_(target), tokens_(tokens) {
  const ModelConfig& c = model.config();
  switch (target.task) {
    case ExplainTask::FillMask:
      if (!model.has_mlm_head()) throw Error("this model has no masked-LM head: it cannot explain fill-mask");
      check_range(target.position, tokens, "token position");
      check_range(target.index, c.vocab_size, "vocabulary id");
      columns_ = c.vocab_size;
      activation_ = c.architecture().mlm_uses_encoder_activation ? c.activation() : Activation::Gelu;
      break;
    case ExplainTask::Classify:
      if (!model.has_classifier()) throw Error("this model has no sequence-classification head: it cannot explain classify");
      check_range(target.index, model.num_labels(), "label");
      columns_ = model.num_labels();
      activation_ = c.architecture().names.sequence_activation;
      break;
    case ExplainTask::QuestionAnswering:
      if (!model.has_qa_head()) throw Error("this model has no question-answering head: it cannot explain qa");
      check_range(target.position, tokens, "token position");
      if (target.index != 0 && target.index != 1) throw Error("a QA target is the start (0) or the end (1) logit");
      columns_ = tokens;
      break;
    case ExplainTask::TokenClassification:
      if (!model.has_token_classifier()) throw Error("this model has no token-classification head: it cannot explain ner");
      check_range(target.position, tokens, "token position");
      check_range(target.index, model.num_token_labels(), "label");
      columns_ = model.num_token_labels();
      break;
  }
}

int TargetHead::column() const {
  return target_.task == ExplainTask::QuestionAnswering ? target_.position : target_.index;
}

std::vector<float> TargetHead::forward(const Tensor& hidden, int copies) {
  const int T = tokens_, H = model_.config().hidden_size;
  copies_ = copies;
  host_rows_.clear();
  for (int b = 0; b < copies; ++b) {
    if (target_.task == ExplainTask::QuestionAnswering) {
      for (int t = 0; t < T; ++t) host_rows_.push_back(b * T + t);  // every position: the softmax is over them
    } else {
      host_rows_.push_back(b * T + (target_.task == ExplainTask::Classify ? 0 : target_.position));
    }
  }
  const std::int64_t R = static_cast<std::int64_t>(host_rows_.size());
  rows_ = backend_.upload(std::span<const std::int32_t>(host_rows_), {R});
  picked_ = backend_.empty({R, H});
  backend_.gather_rows(hidden, rows_, picked_);
  const LinearWeights* out = nullptr;  // the output layer
  const Tensor* out_input = &picked_;
  if (target_.task == ExplainTask::FillMask || target_.task == ExplainTask::Classify) {
    const bool mlm = target_.task == ExplainTask::FillMask;
    const LinearWeights& dense = mlm ? model_.mlm_transform() : model_.sequence_dense();
    dense_pre_ = backend_.empty({R, H});
    dense_ = backend_.empty({R, H});
    backend_.linear(picked_, dense.weight, &dense.bias, Activation::None, dense_pre_);
    backend_.activate(dense_pre_, activation_, dense_);
    out_input = &dense_;
    if (mlm) {
      normed_ = backend_.empty({R, H});
      backend_.layer_norm(dense_, nullptr, model_.mlm_norm().gamma, model_.mlm_norm().beta, model_.config().layer_norm_eps,
                          normed_);
      out_input = &normed_;
    } else {
      out = &model_.classifier();
    }
  } else {
    out = target_.task == ExplainTask::QuestionAnswering ? &model_.qa() : &model_.token_classifier();
  }
  const Tensor& weight = out ? out->weight : model_.mlm_decoder();  // (C', H)
  const Tensor& bias = out ? out->bias : model_.mlm_decoder_bias();
  Tensor z = backend_.empty({R, weight.dim(0)});  // (R, C')
  backend_.linear(*out_input, weight, &bias, Activation::None, z);
  std::vector<float> logits = model_.to_host(z);
  if (target_.task != ExplainTask::QuestionAnswering) return logits;  // (B, C): one row per copy
  std::vector<float> column(static_cast<size_t>(copies) * T);  // (B, T): the start or the end logit
  for (size_t r = 0; r < column.size(); ++r) column[r] = logits[2 * r + static_cast<size_t>(target_.index)];
  return column;
}

Tensor TargetHead::backward() {
  if (copies_ == 0) throw Error("internal: TargetHead::backward before forward");
  const int H = model_.config().hidden_size;
  const std::int64_t R = static_cast<std::int64_t>(host_rows_.size()), N = static_cast<std::int64_t>(copies_) * tokens_;
  Tensor dpicked = backend_.empty({R, H});  // (R, H)
  if (target_.task == ExplainTask::FillMask) {
    // d logit / d normed = the decoder's row of the target word, for every row.
    const std::vector<std::int32_t> word(static_cast<size_t>(R), target_.index);
    Tensor dnormed = backend_.empty({R, H}), ddense = backend_.empty({R, H});
    backend_.gather_rows(model_.mlm_decoder(), backend_.upload(std::span<const std::int32_t>(word), {R}), dnormed);
    Tensor dgamma = backend_.empty({H}), dbeta = backend_.empty({H});  // not wanted; the op computes them
    backend_.fill(dgamma, 0.0f);
    backend_.fill(dbeta, 0.0f);
    backend_.layer_norm_backward(dense_, dnormed, model_.mlm_norm().gamma, model_.config().layer_norm_eps, ddense, dgamma, dbeta);
    backend_.activation_backward(dense_pre_, ddense, activation_, ddense);
    backend_.linear_backward_input(ddense, model_.mlm_transform().weight, false, dpicked);
  } else {
    // A one-hot gradient on the output layer: 1 at the target's column of the target's row of each copy.
    const int C = target_.task == ExplainTask::QuestionAnswering ? 2 : columns_;
    std::vector<float> dz(static_cast<size_t>(R) * C, 0.0f);  // (R, C)
    for (int b = 0; b < copies_; ++b) {
      const int r = target_.task == ExplainTask::QuestionAnswering ? b * tokens_ + target_.position : b;
      dz[static_cast<size_t>(r) * C + static_cast<size_t>(target_.index)] = 1.0f;
    }
    Tensor dz_t = backend_.upload(std::span<const float>(dz), {R, C});
    if (target_.task == ExplainTask::Classify) {
      Tensor ddense = backend_.empty({R, H});
      backend_.linear_backward_input(dz_t, model_.classifier().weight, false, ddense);
      backend_.activation_backward(dense_pre_, ddense, activation_, ddense);
      backend_.linear_backward_input(ddense, model_.sequence_dense().weight, false, dpicked);
    } else {
      const LinearWeights& out = target_.task == ExplainTask::QuestionAnswering ? model_.qa() : model_.token_classifier();
      backend_.linear_backward_input(dz_t, out.weight, false, dpicked);
    }
  }
  Tensor dhidden = backend_.empty({N, H});  // (N, H)
  backend_.fill(dhidden, 0.0f);
  backend_.scatter_add_rows(dpicked, rows_, dhidden);
  return dhidden;
}

}  // namespace bertscope
