#pragma once
// Fine-tuning a token classifier (named entities, parts of speech) from word-tagged sentences, as Hugging Face's
// run_ner example does it: the label list is the training tags sorted, each word is tokenized on its own, the first
// piece of a word carries the word's label and every other piece and special token -100 (no loss). Validation
// after each epoch scores words with seqeval (entity tags) or by accuracy (any other tag set).
#include <map>
#include <string>
#include <vector>

#include "data/tagged.h"
#include "text/tokenizer.h"
#include "train/bert_trainer.h"
#include "train/fine_tune.h"
#include "train/seqeval.h"

namespace bertscope {

// run_ner's label list for string tags: every distinct tag of the training sentences, sorted (byte order, which is
// Python's code-point order for UTF-8). CoNLL-2003 gives B-LOC, B-MISC, B-ORG, B-PER, I-LOC, ..., I-PER, O.
std::vector<std::string> sorted_tag_labels(const std::vector<TaggedSentence>& sentences);

// A padded batch of sentences with run_ner's per-token labels (B*T; -100 where no loss applies). Throws Error naming
// the sentence's line for a tag outside `label_ids`.
TrainBatch tagged_batch(const Tokenizer& tokenizer, const std::vector<const TaggedSentence*>& sentences,
                        const std::map<std::string, int>& label_ids, int max_length, const std::string& source);

// The trainer's tags (evaluation mode) for each word; "" for words truncation cut.
std::vector<std::vector<std::string>> predict_word_tags(BertTrainer& trainer, const Tokenizer& tokenizer,
                                                         const std::vector<TaggedSentence>& sentences, int max_length);

// Scores predicted tags against the sentences' own.
TaggingReport score_tagged(const std::vector<TaggedSentence>& truth, const std::vector<std::vector<std::string>>& predicted,
                           bool lenient = false);

// Epochs over `train` (a trainer with TrainHead::TokenClassification and the labels of sorted_tag_labels), each
// followed by validation scores in EpochResult::tagging. `source` names the training file in messages.
FineTuneResult fine_tune_tagger(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<TaggedSentence>& train,
                                const std::vector<TaggedSentence>& validation, const FineTuneOptions& options,
                                const FineTuneCallbacks& callbacks = {}, const std::string& source = "training data");

}  // namespace bertscope
