#pragma once
// Extractive question answering as Hugging Face's run_qa example trains and scores it: every question's context
// read in overlapping windows (max length 384, doc stride 128, only the context cut), each window labelled with the
// answer's first and last token, or with [CLS] when the answer is not wholly inside it; evaluation picks answers as
// run_qa's postprocessing does (n-best start and end logits, max answer length 30, the null score for SQuAD v2.0)
// and scores them with SQuAD's official EM/F1.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "data/squad.h"
#include "tasks/tasks.h"
#include "text/tokenizer.h"
#include "train/bert_trainer.h"
#include "train/fine_tune.h"
#include "train/squad_metrics.h"

namespace bertscope {

struct QaFeature {
  Encoding encoding;       // [CLS] question [SEP] context-part [SEP]
  int start_position = 0;  // token index of the answer's first token in this window, or of [CLS]
  int end_position = 0;    // token index of its last token, or of [CLS]
  size_t example = 0;      // which example it came from
};

// run_qa's prepare_train_features: the question left-stripped, windows by qa_windows, the first answer labelled.
// The answer's tokens are the context tokens holding its first and last characters. (run_qa's own search can
// step past the window's end when the answer ends the window; this one cannot.)
std::vector<QaFeature> qa_train_features(const Tokenizer& tokenizer, const std::vector<QaExample>& examples,
                                         int max_seq_len = 384, int doc_stride = 128);

// A padded batch of features: input ids, mask, type ids, and start/end positions.
TokenBatch qa_feature_batch(const Tokenizer& tokenizer, const std::vector<const QaFeature*>& features,
                            std::vector<std::int32_t>& start_positions, std::vector<std::int32_t>& end_positions);

// The same as a training batch: labels (2B) = each window's start and end position (TrainBatch's layout).
TrainBatch qa_train_batch(const Tokenizer& tokenizer, const std::vector<const QaFeature*>& features);

// One question's answer as run_qa's postprocess_qa_predictions picks it: over every window, the spans whose start and
// end are among the window's options.n_best highest start and end logits, inside the context, at most
// options.max_answer_len tokens long; the best start + end logit wins. With allow_no_answer (v2.0 data), "" when
// the smallest [CLS] start + end logit over the windows (the null score) is above the best span's.
// no_answer_probability is the logistic of that difference, the v2.0 script's na_prob.
QaPrediction predict_answer(const QaLogitsFn& logits, const Tokenizer& tokenizer, const QaExample& example,
                            const QaOptions& options, bool allow_no_answer);

struct QaEvaluation {
  SquadScores scores;
  std::map<std::string, QaPrediction> predictions;  // by question id
};

// Answers every question and scores the answers as the official script would. `allow_no_answer`: v2.0 data.
// `progress(done, total)` after each question; `cancelled()` polled between them (stops early, scoring what
// was answered as missing).
QaEvaluation evaluate_qa(const QaLogitsFn& logits, const Tokenizer& tokenizer, const QaData& data,
                         const QaOptions& options = {},
                         const std::function<void(size_t, size_t)>& progress = {},
                         const std::function<bool()>& cancelled = {});

// Epochs over the training windows `train` (qa_train_features) with a trainer whose head is
// TrainHead::QuestionAnswering, each followed by the SQuAD scores of `validation` in EpochResult::squad (v2.0 rules
// when validation.has_unanswerable). `qa` gives the validation's windows and answer rules.
FineTuneResult fine_tune_qa(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<QaFeature>& train,
                            const QaData& validation, const FineTuneOptions& options, const QaOptions& qa,
                            const FineTuneCallbacks& callbacks = {});

}  // namespace bertscope
