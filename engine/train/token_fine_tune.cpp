#include "train/token_fine_tune.h"

#include <set>

#include "core/error.h"
#include "tasks/tasks.h"

namespace bertscope {

std::vector<std::string> sorted_tag_labels(const std::vector<TaggedSentence>& sentences) {
  std::set<std::string> tags;
  for (const TaggedSentence& s : sentences) tags.insert(s.tags.begin(), s.tags.end());
  return {tags.begin(), tags.end()};
}

TrainBatch tagged_batch(const Tokenizer& tokenizer, const std::vector<const TaggedSentence*>& sentences,
                        const std::map<std::string, int>& label_ids, int max_length, const std::string& source) {
  std::vector<Encoding> encodings;
  std::vector<std::vector<std::int32_t>> labels;  // per sentence: (T_s)
  for (const TaggedSentence* s : sentences) {
    std::vector<int> word_labels;
    for (size_t i = 0; i < s->tags.size(); ++i) {
      const auto it = label_ids.find(s->tags[i]);
      if (it == label_ids.end())
        throw Error(source + " line " + std::to_string(s->line_of(i)) + ": tag \"" + s->tags[i] +
                    "\" is not one of the model's labels (the training data's tags)");
      word_labels.push_back(it->second);
    }
    encodings.push_back(encode_words(tokenizer, s->words, max_length));
    labels.push_back(first_piece_labels(encodings.back(), word_labels));
  }
  std::vector<const Encoding*> padded;
  for (const Encoding& e : encodings) padded.push_back(&e);
  TrainBatch batch;
  batch.tokens = tokenizer.pad_batch(padded);
  for (const auto& row : labels) {  // (B, T): each sentence's labels, then -100 over its padding
    batch.labels.insert(batch.labels.end(), row.begin(), row.end());
    batch.labels.insert(batch.labels.end(), static_cast<size_t>(batch.tokens.seq_len) - row.size(), -100);
  }
  return batch;
}

std::vector<std::vector<std::string>> predict_word_tags(BertTrainer& trainer, const Tokenizer& tokenizer,
                                                         const std::vector<TaggedSentence>& sentences, int max_length) {
  std::vector<std::vector<std::string>> words;
  for (const TaggedSentence& s : sentences) words.push_back(s.words);
  return predict_word_tags([&](const TokenBatch& b) { return trainer.token_logits(b); }, trainer.options().labels,
                           tokenizer, words, max_length);
}

TaggingReport score_tagged(const std::vector<TaggedSentence>& truth, const std::vector<std::vector<std::string>>& predicted,
                           bool lenient) {
  std::vector<std::vector<std::string>> tags;
  for (const TaggedSentence& s : truth) tags.push_back(s.tags);
  return score_word_tags(tags, predicted, lenient);
}

FineTuneResult fine_tune_tagger(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<TaggedSentence>& train,
                                const std::vector<TaggedSentence>& validation, const FineTuneOptions& options,
                                const FineTuneCallbacks& callbacks, const std::string& source) {
  if (trainer.options().head != TrainHead::TokenClassification) throw Error("internal: the trainer has no token-classification head");
  std::map<std::string, int> label_ids;
  for (size_t i = 0; i < trainer.options().labels.size(); ++i) label_ids[trainer.options().labels[i]] = static_cast<int>(i);
  auto batch_of = [&](const std::vector<size_t>& indices) {
    std::vector<const TaggedSentence*> chunk;
    for (size_t i : indices) chunk.push_back(&train[i]);
    return tagged_batch(tokenizer, chunk, label_ids, options.max_length, source);
  };
  auto validate = [&](EpochResult& r) {
    if (!validation.empty()) r.tagging = score_tagged(validation, predict_word_tags(trainer, tokenizer, validation, options.max_length));
  };
  return train_epochs(trainer, train.size(), batch_of, validate, options, callbacks);
}

}  // namespace bertscope
