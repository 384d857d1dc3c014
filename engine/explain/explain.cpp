// Targets (what to explain), their scores, head masks from text, and ranking heads by ablation.
#include <algorithm>
#include <charconv>

#include "core/error.h"
#include "explain/explain.h"
#include "explain/target_head.h"
#include "tasks/tasks.h"

namespace bertscope {

ExplainTask parse_explain_task(std::string_view name) {
  if (name == "fill-mask") return ExplainTask::FillMask;
  if (name == "classify") return ExplainTask::Classify;
  if (name == "qa") return ExplainTask::QuestionAnswering;
  if (name == "ner") return ExplainTask::TokenClassification;
  throw Error("task \"" + std::string(name) + "\": expected fill-mask, classify, qa or ner");
}

std::string explain_task_name(ExplainTask task) {
  switch (task) {
    case ExplainTask::FillMask: return "fill-mask";
    case ExplainTask::Classify: return "classify";
    case ExplainTask::QuestionAnswering: return "qa";
    case ExplainTask::TokenClassification: return "ner";
  }
  return "";
}

namespace {

// The head's outputs for one input (TargetHead::forward of one copy) under `head_mask` (null: the model's).
std::vector<float> target_outputs(BertModel& model, const Encoding& encoding, const ExplainTarget& target,
                                  const HeadMask* head_mask, TargetHead& head) {
  EncoderRun run;
  run.head_mask = head_mask;
  const EncoderOutput out = model.encode(single_batch(encoding), std::move(run));
  std::vector<float> outputs = head.forward(out.hidden, 1);
  check_finite(outputs.data(), outputs.size());
  return outputs;
}

int argmax(const std::vector<float>& v, const std::vector<bool>* allowed = nullptr) {
  int best = -1;
  for (size_t i = 0; i < v.size(); ++i)
    if ((!allowed || (*allowed)[i]) && (best < 0 || v[i] > v[static_cast<size_t>(best)])) best = static_cast<int>(i);
  return std::max(best, 0);
}

}  // namespace

ExplainTarget resolve_target(BertModel& model, const Tokenizer& tokenizer, const Encoding& encoding, ExplainTask task,
                             int position, int index) {
  const int T = static_cast<int>(encoding.size());
  ExplainTarget t;
  t.task = task;
  t.position = std::max(position, 0);
  t.index = std::max(index, 0);  // provisional: a valid logit to run the head with
  if (task == ExplainTask::FillMask && position < 0) {
    const std::int32_t mask = tokenizer.mask_id();
    auto it = std::find_if(encoding.tokens.begin(), encoding.tokens.end(), [&](const Token& k) { return k.id == mask; });
    if (mask < 0) throw Error("the text has no mask token (this tokenizer has none) for fill-mask to explain");
    if (it == encoding.tokens.end())
      throw Error("the text has no mask token (" + tokenizer.mask_token() + ") for fill-mask to explain: write " +
                  tokenizer.mask_token() + " in place of the word whose prediction should be explained");
    t.position = static_cast<int>(it - encoding.tokens.begin());
  }
  if (task == ExplainTask::TokenClassification && position < 0) {
    if (!model.has_token_classifier()) throw Error("this model has no token-classification head: it cannot explain ner");
    const EncoderOutput out = model.encode(single_batch(encoding));
    const std::vector<float> logits = model.token_logits(out.hidden);  // (T, L)
    const size_t L = static_cast<size_t>(model.num_token_labels());
    int first = -1, entity = -1;  // the first ordinary token, the first one labelled other than "O"
    for (int k = 0; k < T && entity < 0; ++k) {
      if (encoding.tokens[static_cast<size_t>(k)].special) continue;
      if (first < 0) first = k;
      const std::vector<float> row(logits.begin() + static_cast<std::ptrdiff_t>(k * L), logits.begin() + static_cast<std::ptrdiff_t>((k + 1) * L));
      const auto label = model.config().id2label.find(argmax(row));
      if (label != model.config().id2label.end() && label->second != "O") entity = k;
    }
    t.position = std::max(entity >= 0 ? entity : first, 0);
  }
  if (task == ExplainTask::Classify) t.position = 0;  // the first token's row, whatever was asked
  TargetHead head(model, t, T);  // checks the head and the ranges
  if (task == ExplainTask::QuestionAnswering ? position >= 0 : index >= 0) return t;
  const std::vector<float> outputs = target_outputs(model, encoding, t, nullptr, head);
  if (task != ExplainTask::QuestionAnswering) {
    t.index = argmax(outputs);
  } else {  // the best start (or end) among the context's tokens, as the pipeline searches; all tokens if none
    std::vector<bool> context(outputs.size());
    for (int k = 0; k < T; ++k) context[static_cast<size_t>(k)] = encoding.tokens[static_cast<size_t>(k)].sequence == 1;
    const bool any = std::find(context.begin(), context.end(), true) != context.end();
    t.position = argmax(outputs, any ? &context : nullptr);
  }
  return t;
}

TargetScore score_target(BertModel& model, const Encoding& encoding, const ExplainTarget& target, const HeadMask* head_mask) {
  TargetHead head(model, target, static_cast<int>(encoding.size()));
  const std::vector<float> outputs = target_outputs(model, encoding, target, head_mask, head);
  const size_t col = static_cast<size_t>(head.column());
  return {outputs[col], softmax(outputs.data(), outputs.size())[col]};
}

HeadMask parse_head_mask(std::string_view spec, int layers, int heads) {
  HeadMask mask;
  if (spec.find_first_not_of(" ") == std::string_view::npos) return mask;  // nothing switched off
  mask = HeadMask::all_on(layers, heads);
  auto number = [&](std::string_view part, int count, const char* what, std::string_view item) {
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    int v = -1;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size())
      throw Error("head mask \"" + std::string(item) + "\": expected LAYER:HEAD, e.g. 0:3 (0-based)");
    if (v < 0 || v >= count)
      throw Error("head mask \"" + std::string(item) + "\": " + what + " " + std::to_string(v) + " is out of range: the model has " +
                  std::to_string(count) + " " + what + "s, 0 to " + std::to_string(count - 1));
    return v;
  };
  for (size_t from = 0; from <= spec.size();) {
    const size_t comma = std::min(spec.find(',', from), spec.size());
    const std::string_view item = spec.substr(from, comma - from);
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) throw Error("head mask \"" + std::string(item) + "\": expected LAYER:HEAD, e.g. 0:3 (0-based)");
    const int l = number(item.substr(0, colon), layers, "layer", item), h = number(item.substr(colon + 1), heads, "head", item);
    mask.at(l, h) = 0.0f;
    from = comma + 1;
  }
  return mask;
}

std::string head_mask_spec(const HeadMask& mask) {
  std::string spec;
  for (int l = 0; l < mask.layers && !mask.empty(); ++l)
    for (int h = 0; h < mask.heads; ++h)
      if (mask.at(l, h) == 0.0f) spec += (spec.empty() ? "" : ",") + std::to_string(l) + ":" + std::to_string(h);
  return spec;
}

HeadRanking rank_heads(BertModel& model, const Encoding& encoding, const ExplainTarget& target,
                       const RankHeadsCallbacks& callbacks) {
  const int L = model.config().num_hidden_layers, A = model.config().num_attention_heads;
  const HeadMask base = model.head_mask().empty() ? HeadMask::all_on(L, A) : model.head_mask();
  HeadRanking r;
  r.layers = L;
  r.heads = A;
  r.full = score_target(model, encoding, target, &base);
  const size_t cells = static_cast<size_t>(L) * A;
  r.logit_change.assign(cells, 0.0);
  r.probability_change.assign(cells, 0.0);
  r.already_off.assign(cells, false);
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < A; ++h) {
      r.already_off[static_cast<size_t>(l) * A + h] = base.at(l, h) == 0.0f;
      if (base.at(l, h) != 0.0f) r.ranking.emplace_back(l, h);
    }
  // The ablations side by side, a sentence each with its head off on top of the model's mask: a few batched passes
  // instead of one pass a head. At most kRankHeadsPassTokens tokens and A sentences a pass (RankHeadsCallbacks).
  const TokenBatch one = single_batch(encoding);
  const int T = one.seq_len;
  TargetHead head(model, target, T);
  const size_t C = static_cast<size_t>(head.columns()), col = static_cast<size_t>(head.column());
  const size_t chunk = static_cast<size_t>(std::clamp(kRankHeadsPassTokens / T, 1, A));
  for (size_t k0 = 0; k0 < r.ranking.size(); k0 += chunk) {
    if (callbacks.cancelled && callbacks.cancelled()) {
      r.cancelled = true;
      return r;
    }
    const size_t n = std::min(chunk, r.ranking.size() - k0);
    std::vector<HeadMask> masks(n, base);
    for (size_t c = 0; c < n; ++c) masks[c].at(r.ranking[k0 + c].first, r.ranking[k0 + c].second) = 0.0f;
    EncoderRun run;
    run.sentence_head_masks = &masks;
    const EncoderOutput out = model.encode(copies_of(one, static_cast<int>(n)), std::move(run));
    const std::vector<float> outputs = head.forward(out.hidden, static_cast<int>(n));  // (n, C)
    check_finite(outputs.data(), outputs.size());
    for (size_t c = 0; c < n; ++c) {
      const float* row = outputs.data() + c * C;
      const size_t i = static_cast<size_t>(r.ranking[k0 + c].first) * A + r.ranking[k0 + c].second;
      r.logit_change[i] = r.full.logit - row[col];
      r.probability_change[i] = r.full.probability - softmax(row, C)[col];
    }
    if (callbacks.progress) callbacks.progress(static_cast<int>(k0 + n), static_cast<int>(r.ranking.size()));
  }
  std::stable_sort(r.ranking.begin(), r.ranking.end(), [&](const auto& a, const auto& b) {
    return r.logit_change[static_cast<size_t>(a.first) * A + a.second] > r.logit_change[static_cast<size_t>(b.first) * A + b.second];
  });
  return r;
}

}  // namespace bertscope
