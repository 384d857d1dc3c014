#pragma once
// Masked-token accuracy on a text, as `bertscope-cli evaluate-mlm` and pre-training report it: the text is packed
// into sequences, 15% of the ordinary tokens are replaced by [MASK] (a fixed seed: the same positions every time),
// and the model must name the original token: top-1 and top-5 accuracy, next to a unigram baseline that always
// guesses the text's own most frequent tokens.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/bert_model.h"
#include "text/tokenizer.h"

namespace bertscope {

struct MlmEvalResult {
  std::int64_t tokens = 0, masked = 0;
  double top1 = 0, top5 = 0;
  double loss = 0;  // mean cross-entropy of the masked tokens (nats), as the training loss
  double baseline_top1 = 0, baseline_top5 = 0;
};

// (R, V) logits at `rows` (indices into the batch's B*T tokens).
using MlmLogitsFn = std::function<std::vector<float>(const TokenBatch&, const std::vector<std::int32_t>& rows)>;

// Token ids of `lines`, packed into sequences of at most seq_len tokens ([CLS] ... [SEP]).
std::vector<std::vector<std::int32_t>> pack_sequences(const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                                                      int seq_len);

MlmEvalResult evaluate_mlm(const MlmLogitsFn& logits, const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                           int seq_len = 128, std::uint32_t seed = 0, std::int64_t max_masked = 0);

// Convenience: with a loaded model (inference).
MlmEvalResult evaluate_mlm(BertModel& model, const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                           int seq_len = 128, std::uint32_t seed = 0, std::int64_t max_masked = 0);

}  // namespace bertscope
