#include "train/fine_tune.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "core/error.h"
#include "core/test_hooks.h"
#include "tasks/tasks.h"
#include "train/optimizer.h"

namespace bertscope {

namespace {
int argmax(const float* v, int n) { return static_cast<int>(std::max_element(v, v + n) - v); }

template <typename LogitsFn>
std::vector<int> predict_with(LogitsFn logits_of, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                              int max_length, int batch_size, int labels) {
  std::vector<int> out;
  for (size_t start = 0; start < examples.size(); start += static_cast<size_t>(batch_size)) {
    std::vector<const Example*> chunk;
    for (size_t i = start; i < std::min(examples.size(), start + static_cast<size_t>(batch_size)); ++i) chunk.push_back(&examples[i]);
    const TokenBatch batch = sentence_batch(tokenizer, chunk, max_length);
    const std::vector<float> logits = logits_of(batch);  // (B, L)
    check_finite(logits.data(), logits.size());  // NaN logits would be silently counted as label 0
    for (int b = 0; b < batch.batch; ++b) out.push_back(argmax(logits.data() + static_cast<size_t>(b) * labels, labels));
  }
  return out;
}
}  // namespace

TokenBatch sentence_batch(const Tokenizer& tokenizer, const std::vector<const Example*>& examples, int max_length) {
  std::vector<Encoding> encodings;
  for (const Example* e : examples) encodings.push_back(tokenizer.encode(e->text, std::nullopt, max_length));
  std::vector<const Encoding*> padded;
  for (const Encoding& e : encodings) padded.push_back(&e);
  return tokenizer.pad_batch(padded);
}

std::vector<int> predict(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                         int max_length, int batch_size) {
  const int labels = static_cast<int>(trainer.options().labels.size());
  return predict_with([&](const TokenBatch& b) { return trainer.classification_logits(b); }, tokenizer, examples,
                      max_length, batch_size, labels);
}

std::vector<int> predict(BertModel& model, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                         int max_length, int batch_size) {
  if (!model.has_classifier()) throw Error("this model has no sequence-classification head (classifier)");
  const int labels = static_cast<int>(model.config().id2label.size());
  return predict_with([&](const TokenBatch& b) {
    EncoderOutput out = model.encode(b);
    return model.classifier_logits(out.hidden, b.batch, b.seq_len);
  }, tokenizer, examples, max_length, batch_size, labels);
}

ClassificationMetrics evaluate(const std::vector<Example>& examples, const std::vector<int>& predicted, int labels) {
  std::vector<int> truth;
  for (const Example& e : examples) truth.push_back(e.label);
  return classification_metrics(truth, predicted, labels);
}

FineTuneResult fine_tune(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<Example>& train,
                         const std::vector<Example>& validation, const FineTuneOptions& options,
                         const FineTuneCallbacks& callbacks) {
  if (train.empty()) throw Error("no training sentences");
  const int labels = static_cast<int>(trainer.options().labels.size());
  auto batch_of = [&](const std::vector<size_t>& indices) {
    std::vector<const Example*> chunk;
    TrainBatch batch;
    for (size_t i : indices) {
      chunk.push_back(&train[i]);
      batch.labels.push_back(train[i].label);
    }
    batch.tokens = sentence_batch(tokenizer, chunk, options.max_length);
    return batch;
  };
  auto validate = [&](EpochResult& r) {
    if (!validation.empty()) r.validation = evaluate(validation, predict(trainer, tokenizer, validation, options.max_length), labels);
  };
  return train_epochs(trainer, train.size(), batch_of, validate, options, callbacks);
}

FineTuneResult train_epochs(BertTrainer& trainer, size_t examples,
                            const std::function<TrainBatch(const std::vector<size_t>&)>& batch_of,
                            const std::function<void(EpochResult&)>& validate, const FineTuneOptions& options,
                            const FineTuneCallbacks& callbacks) {
  if (examples == 0) throw Error("no training sentences");
  if (options.epochs < 1 || options.batch_size < 1) throw Error("epochs and batch size must be at least 1");
  if (options.max_length < 3 || options.max_length > trainer.config().max_tokens())
    throw Error("max length must be 3 to " + std::to_string(trainer.config().max_tokens()));
  const size_t batch_size = static_cast<size_t>(options.batch_size);
  const int steps_per_epoch = static_cast<int>((examples + batch_size - 1) / batch_size);
  OptimizerOptions opt;
  opt.learning_rate = options.learning_rate;
  opt.weight_decay = options.weight_decay;
  opt.max_grad_norm = options.max_grad_norm;
  opt.total_steps = steps_per_epoch * options.epochs;
  opt.warmup_steps = static_cast<int>(options.warmup_ratio * static_cast<float>(opt.total_steps));
  AdamW adamw(trainer.params(), trainer.backend(), opt);

  using clock = std::chrono::steady_clock;
  const auto started = clock::now();
  FineTuneResult result;
  std::mt19937 rng(options.seed);
  std::vector<size_t> order(examples);
  int step = 0;
  long sentences = 0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    int batches = 0;
    for (size_t start = 0; start < order.size(); start += batch_size) {
      if (callbacks.cancelled && callbacks.cancelled()) {
        result.cancelled = true;
        result.seconds = std::chrono::duration<double>(clock::now() - started).count();
        return result;
      }
      const std::vector<size_t> chunk(order.begin() + static_cast<std::ptrdiff_t>(start),
                                      order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + batch_size)));
      const double step_loss = trainer.compute_gradients(batch_of(chunk));
      trainer.check_loss(step_loss, step + 1);
      loss_sum += step_loss;
      adamw.step();
      test_hooks::pause_point("train-step");  // mid-epoch, where tests/test_kill.cpp kills a run
      ++batches;
      ++step;
      sentences += static_cast<long>(chunk.size());
      if (callbacks.progress) {
        const double elapsed = std::chrono::duration<double>(clock::now() - started).count();
        TrainProgress p;
        p.step = step;
        p.total_steps = opt.total_steps;
        p.epoch = epoch;
        p.epochs = options.epochs;
        p.loss = loss_sum / batches;
        p.step_loss = step_loss;
        p.learning_rate = adamw.learning_rate_at(step);
        p.sentences_per_second = elapsed > 0 ? static_cast<double>(sentences) / elapsed : 0;
        p.eta_seconds = elapsed / step * (opt.total_steps - step);
        callbacks.progress(p);
      }
    }
    EpochResult r;
    r.epoch = epoch;
    r.train_loss = loss_sum / std::max(1, batches);
    if (validate) validate(r);
    result.epochs.push_back(r);
    if (callbacks.epoch_done) callbacks.epoch_done(r);
  }
  result.seconds = std::chrono::duration<double>(clock::now() - started).count();
  return result;
}

}  // namespace bertscope
