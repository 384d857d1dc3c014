#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "tasks/tasks.h"

namespace bertscope {

FillMaskResult fill_mask(BertModel& model, const Tokenizer& tokenizer, std::string_view text, int top_k) {
  if (!model.has_mlm_head()) throw Error("this model has no masked-LM head, so it cannot fill masks");
  const MaskLogitsFn logits = [&model](const TokenBatch& batch, const std::vector<std::int32_t>& rows) {
    EncoderRun run;
    run.output_rows = &rows;  // the last layer past its attention only for the masked tokens
    EncoderOutput out = model.encode(batch, run);
    std::vector<std::int32_t> picked(rows.size());  // out.hidden holds just those rows, in order
    std::iota(picked.begin(), picked.end(), 0);
    return model.mlm_logits(out.hidden, picked);
  };
  return fill_mask(logits, tokenizer, text, top_k);
}

FillMaskResult fill_mask(const MaskLogitsFn& logits_of, const Tokenizer& tokenizer, std::string_view text, int top_k) {
  if (tokenizer.mask_id() < 0) throw Error("the vocabulary has no mask token, so nothing can be masked");
  const std::string mask = tokenizer.mask_token();  // "[MASK]", "<mask>": what the user types
  FillMaskResult result;
  result.encoding = tokenizer.encode(text);
  const auto ids = result.encoding.ids();
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] == tokenizer.mask_id()) result.mask_positions.push_back(static_cast<int>(i));
  if (result.mask_positions.empty()) {
    if (result.encoding.truncated_tokens > 0)
      throw Error("every " + mask + " lies past the model's limit of " + std::to_string(tokenizer.model_max_length()) +
                  " tokens, where the text is cut; shorten the text before it");
    throw Error("the text has no " + mask + " token; put " + mask + " where a word should be predicted");
  }
  // Each prediction carries the whole filled-in text, so the work is masks x top_k sequences: bound it.
  constexpr int max_top_k = 1000, max_predictions = 20000;
  if (top_k < 1 || top_k > max_top_k) throw Error("top_k must be between 1 and " + std::to_string(max_top_k));
  if (result.mask_positions.size() * static_cast<size_t>(top_k) > max_predictions)
    throw Error(std::to_string(result.mask_positions.size()) + " masks x top_k " + std::to_string(top_k) + " is more than " +
                std::to_string(max_predictions) + " predictions; use fewer " + mask + "s or a smaller top_k");
  const std::vector<std::int32_t> rows(result.mask_positions.begin(), result.mask_positions.end());
  const std::vector<float> logits = logits_of(single_batch(result.encoding), rows);  // (masks, V)
  const size_t V = logits.size() / rows.size();
  const size_t k = std::min(static_cast<size_t>(top_k), V);
  for (size_t m = 0; m < result.mask_positions.size(); ++m) {
    std::vector<double> p = softmax(logits.data() + m * V, V);
    std::vector<std::int32_t> order(V);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](auto a, auto b) { return p[a] > p[b]; });
    std::vector<MaskPrediction> best;
    for (size_t i = 0; i < k; ++i) {
      MaskPrediction pred;
      pred.token = order[i];
      pred.score = p[order[i]];
      pred.token_str = tokenizer.decode({order[i]}, false);
      std::vector<std::int32_t> filled = ids;
      filled[result.mask_positions[m]] = order[i];
      pred.sequence = tokenizer.decode(filled, true);
      best.push_back(std::move(pred));
    }
    result.predictions.push_back(std::move(best));
  }
  return result;
}

}  // namespace bertscope
