#pragma once
// Fine-tuning a sequence classifier: epochs of shuffled mini-batches (each padded to its longest sentence),
// AdamW with linear warm-up and decay, validation after every epoch, early stopping on the validation score (keeping
// the best epoch's weights), progress reports and cancellation. The loop
// itself (train_epochs) also serves token classification (train/token_fine_tune.h) and question answering
// (train/qa_fine_tune.h).
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "model/bert_model.h"
#include "text/tokenizer.h"
#include "train/bert_trainer.h"
#include "train/metrics.h"
#include "train/seqeval.h"
#include "train/squad_metrics.h"

namespace bertscope {

struct FineTuneOptions {
  int epochs = 3;
  int batch_size = 16;
  int max_length = 128;        // tokens per sentence, [CLS] and [SEP] included
  float learning_rate = 5e-5f; // peak; BERT's paper recommends 2e-5 to 5e-5 for pre-trained models
  float warmup_ratio = 0.1f;   // share of the steps spent warming up
  float weight_decay = 0.01f;
  float max_grad_norm = 1.0f;
  std::uint32_t seed = 0;      // shuffling (the trainer's own seed drives dropout)
  // Early stopping (Hugging Face's EarlyStoppingCallback with load_best_model_at_end): stop once `patience` epochs in
  // a row bring no better validation score (validation_score), and end with the best epoch's weights, not the last's.
  // 0: off (every epoch runs; the last epoch's weights are kept).
  int patience = 0;
};
// The epochs, learning rate, batch size and warm-up above are the loop's own fallbacks; the commands and the
// Fine-tune view take theirs from training_defaults (train/training_defaults.h), fitted to the model.

struct TrainProgress {
  int step = 0, total_steps = 0;
  int epoch = 0, epochs = 0;   // 1-based
  double loss = 0;             // mean over the epoch so far
  double step_loss = 0;        // this step's batch
  double smoothed_loss = 0;    // exponential moving average of step_loss over every step (0.9 old, 0.1 new)
  double learning_rate = 0;
  double sentences_per_second = 0;
  double eta_seconds = 0;
};

// Lets progress reports through at most `per_second` times a second, and always when forced (an epoch's last step):
// the loop reports every step, thousands a second on a small model, far more than a screen or a chart can show.
class ProgressThrottle {
 public:
  explicit ProgressThrottle(double per_second) : interval_(1.0 / per_second) {}
  bool due(bool force = false);
  // The last step of an epoch (or of the run): always worth showing.
  static bool ends_epoch(const TrainProgress& p) { return p.epochs > 0 && p.step * p.epochs == p.epoch * p.total_steps; }

 private:
  double interval_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_;
};

struct EpochResult {
  int epoch = 0;
  double train_loss = 0;
  ClassificationMetrics validation;  // count 0 when there is no validation set
  TaggingReport tagging;             // token classification: sentences 0 when there is no validation set
  SquadScores squad;                 // question answering: total 0 when there is no validation set
};

struct FineTuneCallbacks {
  std::function<void(const TrainProgress&)> progress;  // after every step
  std::function<void(const EpochResult&)> epoch_done;
  std::function<bool()> cancelled;                     // polled between steps
};

struct FineTuneResult {
  std::vector<EpochResult> epochs;
  int kept_epoch = 0;          // whose weights the trainer ends with: the best epoch's with patience, else the last
  bool stopped_early = false;  // patience ran out before the last epoch
  bool cancelled = false;      // stopped before the last epoch's validation completed: nothing is to be saved
  double seconds = 0;
};

// The score early stopping compares (higher is better): classification accuracy, NER entity F1 (token accuracy for
// tags that are not entities), QA F1. False from has_validation_score when the epoch had no validation.
bool has_validation_score(const EpochResult& result);
double validation_score(const EpochResult& result);
std::string validation_score_name(const EpochResult& result);  // "accuracy", "entity F1", "token accuracy", "F1"

// The loop every task shares: `examples` training examples in shuffled mini-batches built by `batch_of` (from the
// examples' indices), AdamW, progress after each step, and `validate` after each epoch (it fills the result's
// scores; empty: none). A cancel seen before an epoch's validation has completed (during it too) cancels the run:
// the result says cancelled and nothing should be saved.
FineTuneResult train_epochs(BertTrainer& trainer, size_t examples,
                            const std::function<TrainBatch(const std::vector<size_t>&)>& batch_of,
                            const std::function<void(EpochResult&)>& validate, const FineTuneOptions& options,
                            const FineTuneCallbacks& callbacks);

FineTuneResult fine_tune(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<Example>& train,
                         const std::vector<Example>& validation, const FineTuneOptions& options,
                         const FineTuneCallbacks& callbacks = {});

// A padded batch of single sentences, each truncated to max_length tokens.
TokenBatch sentence_batch(const Tokenizer& tokenizer, const std::vector<const Example*>& examples, int max_length);

// Each example's classification logits with the trainer (evaluation mode): (examples, labels), in the examples'
// order, run in batches of similar length.
std::vector<float> classification_logits(BertTrainer& trainer, const Tokenizer& tokenizer,
                                         const std::vector<Example>& examples, int max_length, int batch_size = 32);

// Predicted label ids, in batches, with the trainer (evaluation mode) or a loaded classification model.
std::vector<int> predict(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                         int max_length, int batch_size = 32);
std::vector<int> predict(BertModel& model, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                         int max_length, int batch_size = 32);

ClassificationMetrics evaluate(const std::vector<Example>& examples, const std::vector<int>& predicted, int labels);

}  // namespace bertscope
