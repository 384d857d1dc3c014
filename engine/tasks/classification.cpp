#include <algorithm>

#include "core/error.h"
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
  AttentionResult r;
  r.encoding = tokenizer.encode(text, text_pair);
  EncoderOutput out = model.encode(single_batch(r.encoding), /*keep_attentions=*/true);
  r.layers = model.config().num_hidden_layers;
  r.heads = model.config().num_attention_heads;
  r.tokens = static_cast<int>(r.encoding.size());
  for (const Tensor& probs : out.attentions) {
    r.maps.push_back(model.to_host(probs));  // (1, A, T, T)
    check_finite(r.maps.back().data(), r.maps.back().size());
  }
  return r;
}

}  // namespace bertscope
