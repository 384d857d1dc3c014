// Word-tagged sentences through a token-classification model, as Hugging Face's run_ner example reads them: words
// tokenized one by one, the label of each word taken from its first piece.
#include <algorithm>

#include "core/error.h"
#include "tasks/tasks.h"

namespace bertscope {

Encoding encode_words(const Tokenizer& tokenizer, const std::vector<std::string>& words, int max_length) {
  if (max_length <= 0) max_length = tokenizer.model_max_length();
  const int room = max_length - tokenizer.special_tokens_added(false);
  if (room < 1) throw Error("max_length " + std::to_string(max_length) + " leaves no room for a word");
  std::vector<Token> tokens;
  for (size_t w = 0; w < words.size() && static_cast<int>(tokens.size()) < room; ++w) {
    // Byte-level BPE marks a word start with the space before it (add_prefix_space); WordPiece needs no mark.
    const std::string text = tokenizer.marks_continuations() ? words[w] : " " + words[w];
    for (Token t : tokenizer.tokenize(text)) {
      t.word = static_cast<std::int32_t>(w);
      tokens.push_back(std::move(t));
    }
  }
  const int truncated = std::max(0, static_cast<int>(tokens.size()) - room);
  if (truncated) tokens.resize(static_cast<size_t>(room));
  Encoding e = tokenizer.with_special_tokens(std::move(tokens));
  e.truncated_tokens = truncated;
  return e;
}

std::vector<int> first_pieces(const Encoding& encoding) {
  std::vector<int> word_of(encoding.size(), -1);
  int previous_word = -1;
  for (size_t i = 0; i < encoding.size(); ++i) {
    const Token& t = encoding.tokens[i];
    if (t.sequence < 0 || t.word < 0 || t.word == previous_word) continue;  // special, or not a first piece
    previous_word = t.word;
    word_of[i] = t.word;
  }
  return word_of;
}

std::vector<std::int32_t> first_piece_labels(const Encoding& encoding, const std::vector<int>& word_labels) {
  std::vector<std::int32_t> labels;
  for (int w : first_pieces(encoding)) labels.push_back(w < 0 ? -100 : word_labels.at(static_cast<size_t>(w)));
  return labels;
}

std::vector<std::vector<std::string>> predict_word_tags(const TokenLogitsFn& logits_of, const std::vector<std::string>& labels,
                                                         const Tokenizer& tokenizer,
                                                         const std::vector<std::vector<std::string>>& sentences,
                                                         int max_length) {
  const size_t L = labels.size();
  std::vector<std::vector<std::string>> tags;
  constexpr size_t kBatch = 16;
  for (size_t first = 0; first < sentences.size(); first += kBatch) {
    const size_t last = std::min(sentences.size(), first + kBatch);
    std::vector<Encoding> encodings;
    for (size_t s = first; s < last; ++s) encodings.push_back(encode_words(tokenizer, sentences[s], max_length));
    std::vector<const Encoding*> group;
    for (const Encoding& e : encodings) group.push_back(&e);
    const TokenBatch batch = tokenizer.pad_batch(group);
    const std::vector<float> logits = logits_of(batch);  // (sentences * T, L)
    for (size_t s = first; s < last; ++s) {
      std::vector<std::string> words(sentences[s].size());
      const std::vector<int> word_of = first_pieces(encodings[s - first]);
      for (size_t i = 0; i < word_of.size(); ++i) {
        if (word_of[i] < 0) continue;
        const float* row = logits.data() + ((s - first) * static_cast<size_t>(batch.seq_len) + i) * L;
        check_finite(row, L);
        words[static_cast<size_t>(word_of[i])] = labels[static_cast<size_t>(std::max_element(row, row + L) - row)];
      }
      tags.push_back(std::move(words));
    }
  }
  return tags;
}

std::vector<std::vector<std::string>> predict_word_tags(BertModel& model, const Tokenizer& tokenizer,
                                                         const std::vector<std::vector<std::string>>& sentences,
                                                         int max_length) {
  if (!model.has_token_classifier()) throw Error("this model has no token-classification head");
  std::vector<std::string> labels(static_cast<size_t>(model.num_token_labels()));
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = model.config().id2label.at(static_cast<int>(i));
  auto logits = [&](const TokenBatch& batch) {
    EncoderOutput out = model.encode(batch);
    return model.token_logits(out.hidden);
  };
  return predict_word_tags(logits, labels, tokenizer, sentences, max_length);
}

}  // namespace bertscope
