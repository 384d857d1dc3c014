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

// Each example's logits, (examples, labels) in the examples' order. Batches are formed in order of length (Hugging
// Face's group_by_length), so that each pads its sentences to a similar length instead of all to the longest of a
// random mix.
template <typename LogitsFn>
std::vector<float> logits_with(LogitsFn logits_of, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                               int max_length, int batch_size, int labels) {
  std::vector<Encoding> encodings;
  for (const Example& e : examples) encodings.push_back(tokenizer.encode(e.text, std::nullopt, max_length));
  std::vector<size_t> order(examples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return encodings[a].size() < encodings[b].size(); });
  std::vector<float> out(examples.size() * static_cast<size_t>(labels));
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size));
    std::vector<const Encoding*> chunk;
    for (size_t i = start; i < end; ++i) chunk.push_back(&encodings[order[i]]);
    const TokenBatch batch = tokenizer.pad_batch(chunk);
    const std::vector<float> logits = logits_of(batch);  // (B, L)
    check_finite(logits.data(), logits.size());  // NaN logits would be silently counted as label 0
    for (int b = 0; b < batch.batch; ++b)
      std::copy_n(logits.data() + static_cast<size_t>(b) * labels, labels, out.data() + order[start + b] * labels);
  }
  return out;
}

std::vector<int> argmax_rows(const std::vector<float>& logits, int labels) {
  std::vector<int> out(logits.size() / static_cast<size_t>(labels));
  for (size_t i = 0; i < out.size(); ++i) out[i] = argmax(logits.data() + i * labels, labels);
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

std::vector<float> classification_logits(BertTrainer& trainer, const Tokenizer& tokenizer,
                                         const std::vector<Example>& examples, int max_length, int batch_size) {
  const int labels = static_cast<int>(trainer.options().labels.size());
  return logits_with([&](const TokenBatch& b) { return trainer.classification_logits(b); }, tokenizer, examples,
                     max_length, batch_size, labels);
}

std::vector<int> predict(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                         int max_length, int batch_size) {
  return argmax_rows(classification_logits(trainer, tokenizer, examples, max_length, batch_size),
                     static_cast<int>(trainer.options().labels.size()));
}

std::vector<int> predict(BertModel& model, const Tokenizer& tokenizer, const std::vector<Example>& examples,
                         int max_length, int batch_size) {
  if (!model.has_classifier()) throw Error("this model has no sequence-classification head (classifier)");
  const int labels = static_cast<int>(model.config().id2label.size());
  return argmax_rows(logits_with([&](const TokenBatch& b) {
    std::vector<std::int32_t> first(b.batch);  // each sentence's first token: all the sequence head reads
    for (int i = 0; i < b.batch; ++i) first[i] = i * b.seq_len;
    EncoderRun run;
    run.output_rows = &first;
    EncoderOutput out = model.encode(b, run);
    return model.classifier_logits(out.hidden, b.batch, 1);  // hidden: (B, H), one row a sentence
  }, tokenizer, examples, max_length, batch_size, labels), labels);
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

bool ProgressThrottle::due(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && started_ && std::chrono::duration<double>(now - last_).count() < interval_) return false;
  started_ = true;
  last_ = now;
  return true;
}

bool has_validation_score(const EpochResult& r) { return r.validation.count || r.tagging.sentences || r.squad.total; }

double validation_score(const EpochResult& r) {
  if (r.squad.total) return r.squad.f1;
  if (r.tagging.sentences) return r.tagging.entities ? r.tagging.seqeval.micro.f1 : r.tagging.seqeval.accuracy;
  return r.validation.accuracy;
}

std::string validation_score_name(const EpochResult& r) {
  if (r.squad.total) return "F1";
  if (r.tagging.sentences) return r.tagging.entities ? "entity F1" : "token accuracy";
  return "accuracy";
}

FineTuneResult train_epochs(BertTrainer& trainer, size_t examples,
                            const std::function<TrainBatch(const std::vector<size_t>&)>& batch_of,
                            const std::function<void(EpochResult&)>& validate, const FineTuneOptions& options,
                            const FineTuneCallbacks& callbacks) {
  if (examples == 0) throw Error("no training sentences");
  if (options.epochs < 1 || options.batch_size < 1) throw Error("epochs and batch size must be at least 1");
  if (options.patience < 0) throw Error("patience must be 0 (no early stopping) or more epochs");
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
  double smoothed_loss = 0;
  // Early stopping: the best validation score so far, its epoch's weights (host copies; none while the best is the
  // latest epoch, whose weights the trainer holds anyway) and the epochs since.
  double best_score = 0;
  std::vector<std::vector<float>> best_weights;
  int epochs_since_best = 0;
  const auto stop_cancelled = [&] {
    result.cancelled = true;
    result.seconds = std::chrono::duration<double>(clock::now() - started).count();
    return result;
  };
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    int batches = 0;
    for (size_t start = 0; start < order.size(); start += batch_size) {
      if (callbacks.cancelled && callbacks.cancelled()) return stop_cancelled();
      const std::vector<size_t> chunk(order.begin() + static_cast<std::ptrdiff_t>(start),
                                      order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + batch_size)));
      const double step_loss = trainer.compute_gradients(batch_of(chunk));
      trainer.check_loss(step_loss, step + 1);
      loss_sum += step_loss;
      smoothed_loss = step == 0 ? step_loss : 0.9 * smoothed_loss + 0.1 * step_loss;
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
        p.smoothed_loss = smoothed_loss;
        p.learning_rate = adamw.learning_rate_at(step);
        p.sentences_per_second = elapsed > 0 ? static_cast<double>(sentences) / elapsed : 0;
        p.eta_seconds = elapsed / step * (opt.total_steps - step);
        callbacks.progress(p);
      }
    }
    EpochResult r;
    r.epoch = epoch;
    r.train_loss = loss_sum / std::max(1, batches);
    test_hooks::pause_point("validation");  // where tests/test_kill.cpp interrupts a run
    if (validate) validate(r);
    // One rule for every task: a run interrupted before this validation completed (QA's stops part-way) is
    // cancelled, the last epoch's included, so its model is never saved on a partial score.
    if (callbacks.cancelled && callbacks.cancelled()) return stop_cancelled();
    result.epochs.push_back(r);
    if (callbacks.epoch_done) callbacks.epoch_done(r);
    if (options.patience > 0 && has_validation_score(r)) {
      const double score = validation_score(r);
      if (result.kept_epoch == 0 || score > best_score) {
        best_score = score;
        result.kept_epoch = epoch;
        epochs_since_best = 0;
        best_weights.clear();
        if (epoch < options.epochs) best_weights = trainer.parameter_values();  // later epochs may be worse
      } else if (++epochs_since_best >= options.patience) {
        result.stopped_early = epoch < options.epochs;
        break;
      }
    }
  }
  if (result.kept_epoch == 0) result.kept_epoch = result.epochs.back().epoch;
  else if (result.kept_epoch != result.epochs.back().epoch) trainer.set_parameter_values(best_weights);
  result.seconds = std::chrono::duration<double>(clock::now() - started).count();
  return result;
}

}  // namespace bertscope
