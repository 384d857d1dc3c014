#include <algorithm>

#include "core/error.h"
#include "tasks/attention_maps.h"
#include "tasks/tasks.h"

namespace bertscope {

ClassifyResult classify(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                        std::optional<std::string_view> text_pair) {
  if (!model.has_classifier()) throw Error("this model has no sequence-classification head (classifier)");
  ClassifyResult r;
  r.encoding = tokenizer.encode(text, text_pair);
  EncoderOutput out = model.encode(single_batch(r.encoding));
  r.logits = model.classifier_logits(out.hidden, 1, static_cast<int>(r.encoding.size()));  // (1, L)
  const std::vector<double> p = softmax(r.logits.data(), r.logits.size());
  for (size_t i = 0; i < p.size(); ++i) r.scores.push_back({model.config().id2label.at(static_cast<int>(i)), p[i]});
  return r;
}

TokenClassifyResult classify_tokens(BertModel& model, const Tokenizer& tokenizer, std::string_view text) {
  if (!model.has_token_classifier()) throw Error("this model has no token-classification head");
  TokenClassifyResult r;
  r.encoding = tokenizer.encode(text);
  EncoderOutput out = model.encode(single_batch(r.encoding));
  const std::vector<float> logits = model.token_logits(out.hidden);  // (T, L)
  const size_t L = static_cast<size_t>(model.num_token_labels());
  for (size_t i = 0; i < r.encoding.size(); ++i) {
    const Token& t = r.encoding.tokens[i];
    if (t.special) continue;  // Hugging Face's special_tokens_mask: added and typed special tokens alike
    TokenLabel label;
    label.index = static_cast<int>(i);
    label.word = tokenizer.token(t.id);
    label.start = t.start;
    label.end = t.end;
    label.probabilities = softmax(logits.data() + i * L, L);
    const size_t best = static_cast<size_t>(
        std::max_element(label.probabilities.begin(), label.probabilities.end()) - label.probabilities.begin());
    label.entity = model.config().id2label.at(static_cast<int>(best));
    label.score = label.probabilities[best];
    r.tokens.push_back(std::move(label));
  }
  return r;
}

NspResult next_sentence(BertModel& model, const Tokenizer& tokenizer, std::string_view first, std::string_view second) {
  if (!model.has_nsp_head()) throw Error("this model has no next-sentence head (cls.seq_relationship)");
  NspResult r;
  r.encoding = tokenizer.encode(first, second);
  EncoderOutput out = model.encode(single_batch(r.encoding));
  r.logits = model.nsp_logits(out.hidden, 1, static_cast<int>(r.encoding.size()));  // (1, 2): IsNext, NotNext
  r.is_next = softmax(r.logits.data(), 2)[0];
  return r;
}

AttentionResult attention(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                          std::optional<std::string_view> text_pair) {
  AttentionMaps maps(model, tokenizer, text, text_pair);  // every layer and head, checked for NaN
  AttentionResult r;
  r.encoding = maps.encoding();
  r.layers = static_cast<int>(maps.layers().size());
  r.heads = static_cast<int>(maps.heads().size());
  r.tokens = maps.tokens();
  for (size_t l = 0; l < maps.layers().size(); ++l) r.maps.push_back(maps.take_layer(l));  // (A, T, T)
  return r;
}

}  // namespace bertscope
