#include "training_job.h"

#include <QMetaObject>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "core/json_io.h"
#include "model/pretrained.h"
#include "train/pretraining.h"
#include "tasks/tasks.h"
#include "train/qa_fine_tune.h"
#include "train/token_fine_tune.h"

namespace bertscope::gui {

namespace {
QVector<double> probabilities(BertTrainer& trainer, const Tokenizer& tokenizer, const std::string& text, int max_length) {
  const Example example{text, 0, 0};
  const TokenBatch batch = sentence_batch(tokenizer, {&example}, max_length);
  const std::vector<float> logits = trainer.classification_logits(batch);
  const std::vector<double> p = softmax(logits.data(), logits.size());
  return QVector<double>(p.begin(), p.end());
}

// A sentence to try, as a token classifier reads it: words split at spaces (no tags).
TaggedSentence words_of(const std::string& text) {
  TaggedSentence sentence;
  for (const QString& w : QString::fromStdString(text).split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
    sentence.words.push_back(w.trimmed().toStdString());
    sentence.tags.emplace_back();
  }
  return sentence;
}

// The pipeline's best answer, from a trainer's question-answering head.
TriedAnswer answer_of(BertTrainer& trainer, const Tokenizer& tokenizer, const std::string& question,
                      const std::string& context, QaOptions options) {
  options.top_k = 1;
  const QaLogitsFn logits = [&trainer](const TokenBatch& batch) { return trainer.qa_logits(batch); };
  const QaResult result = answer_question(logits, tokenizer, question, context, options);
  TriedAnswer out;
  if (result.answers.empty()) return out;
  const QaAnswer& a = result.answers.front();
  out.found = true;
  out.text = QString::fromStdString(a.answer);
  out.score = a.score;
  out.start = a.start;
  out.end = a.end;
  return out;
}

// A masked-LM trainer's fill-mask answer (a text without a mask says so in `problem`).
MaskGuesses guesses_of(BertTrainer& trainer, const Tokenizer& tokenizer, const std::string& text, int top_k) {
  MaskGuesses out;
  try {
    const MaskLogitsFn logits = [&trainer](const TokenBatch& batch, const std::vector<std::int32_t>& rows) {
      return trainer.mlm_logits(batch, rows);  // (R, V)
    };
    for (const std::vector<MaskPrediction>& mask : fill_mask(logits, tokenizer, text, top_k).predictions) {
      QStringList words;
      QVector<double> scores;
      for (const MaskPrediction& p : mask) {
        words << QString::fromStdString(p.token_str);
        scores << p.score;
      }
      out.words << words;
      out.scores << scores;
    }
  } catch (const std::exception& e) {
    out.problem = QString::fromUtf8(e.what());
  }
  return out;
}

void write_lines(const std::filesystem::path& file, const std::vector<std::string>& lines) {
  std::ofstream out(file, std::ios::binary);
  for (const std::string& line : lines) out << line << '\n';
  if (!out.flush()) throw Error(file.string() + ": cannot write (is the disk full?)");
}

QStringList tags_of(BertTrainer& trainer, const Tokenizer& tokenizer, const TaggedSentence& sentence, int max_length) {
  const std::vector<std::vector<std::string>> tags = predict_word_tags(trainer, tokenizer, {sentence}, max_length);
  QStringList out;
  for (const std::string& tag : tags.front()) out << QString::fromStdString(tag);  // "" for a word past max_length
  return out;
}
}  // namespace

TrainingJob::TrainingJob(QObject* parent) : QObject(parent) {
  qRegisterMetaType<bertscope::TrainProgress>();
  qRegisterMetaType<bertscope::EpochResult>();
  qRegisterMetaType<bertscope::gui::Mistake>();
  qRegisterMetaType<QVector<bertscope::gui::Mistake>>();
  qRegisterMetaType<bertscope::gui::TriedAnswer>();
  qRegisterMetaType<bertscope::gui::MaskGuesses>();
  qRegisterMetaType<bertscope::MlmEvalResult>();
  worker_ = new QObject;
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  thread_.setObjectName(QStringLiteral("bertscope training"));
  thread_.start();
}

TrainingJob::~TrainingJob() {
  cancelled_ = true;
  QMetaObject::invokeMethod(worker_, [this] {  // free the models on the thread that used them
    before_.reset();
    trainer_.reset();
    backend_.reset();
  }, Qt::QueuedConnection);
  thread_.quit();
  thread_.wait();
}

void TrainingJob::start(const TrainingSetup& setup) {
  if (running_) return;
  running_ = true;
  hasModel_ = false;
  cancelled_ = false;
  task_ = setup.task;
  startModel_ = QString::fromStdString(setup.model.string());
  runFolder_ = QString::fromStdString(setup.run_folder.string());
  emit started();
  QMetaObject::invokeMethod(worker_, [this, setup] {
    QString error;
    bool cancelled = false;
    try {
      before_.reset();
      trainer_.reset();
      setup_ = setup;
      if (!backend_ || setup.backend.kind != backendMade_.kind || setup.backend.device != backendMade_.device) {
        backend_.reset();
        backend_ = make_backend(setup.backend);
        backendMade_ = setup.backend;
      }
      const Pretrained model = open_pretrained(setup.model);
      tokenizer_ = model.tokenizer;
      FineTuneCallbacks callbacks;
      // Queued to the UI thread: about 10 a second (and each epoch's end), not one per step, which on a small model
      // is hundreds a second and would flood the event queue and the chart.
      callbacks.progress = [this, throttle = ProgressThrottle(kProgressPerSecond)](const TrainProgress& p) mutable {
        if (throttle.due(ProgressThrottle::ends_epoch(p))) emit progress(p);
      };
      callbacks.epoch_done = [this](const EpochResult& r) { emit epochDone(r); };
      callbacks.cancelled = [this] { return cancelled_.load(); };
      // Classification and question answering fine-tune a head; masked LM continues a pre-training run.
      cancelled = setup.task == FineTuneTask::MaskedLanguageModel ? adaptText(setup, callbacks)
                                                                  : fineTune(setup, model, callbacks);
      if (cancelled) trainer_.reset();
    } catch (const std::bad_alloc&) {
      error = tr("Out of memory. Try a smaller batch size, a shorter maximum length or a smaller model.");
      trainer_.reset();
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
      trainer_.reset();
    }
    const bool ready = trainer_ != nullptr;
    QMetaObject::invokeMethod(this, [this, cancelled, error, ready] {
      running_ = false;
      hasModel_ = ready;
      emit finished(cancelled, error);
    }, Qt::QueuedConnection);
  }, Qt::QueuedConnection);
}

bool TrainingJob::fineTune(const TrainingSetup& setup, const Pretrained& model, const FineTuneCallbacks& callbacks) {
  TrainerOptions options;
  const bool tokens = setup.task == FineTuneTask::TokenClassification;
  const bool qa = setup.task == FineTuneTask::QuestionAnswering;
  options.head = qa ? TrainHead::QuestionAnswering : tokens ? TrainHead::TokenClassification : TrainHead::SequenceClassification;
  if (!qa) options.labels = setup.labels;
  options.dropout = setup.dropout;
  options.frozen_layers = setup.frozen_layers;
  options.seed = setup.options.seed;
  trainer_ = std::make_unique<BertTrainer>(model, *backend_, options);
  const FineTuneResult result =
      qa ? fine_tune_qa(*trainer_, *tokenizer_,
                        qa_train_features(*tokenizer_, setup.qa_train.examples, setup.qa.max_seq_len, setup.qa.doc_stride),
                        setup.qa_validation, setup.options, setup.qa, callbacks)
      : tokens ? fine_tune_tagger(*trainer_, *tokenizer_, setup.tagged_train, setup.tagged_validation, setup.options, callbacks)
               : fine_tune(*trainer_, *tokenizer_, setup.train, setup.validation, setup.options, callbacks);
  if (result.cancelled) return true;
  // Early stopping compared scores only when there was a validation set.
  const bool compared = setup.options.patience > 0 && has_validation_score(result.epochs.back());
  emit keptEpoch(result.kept_epoch, result.stopped_early, compared);
  try {
    emit mistakesFound(findMistakes());
  } catch (const std::exception&) {
    // The list is an extra: the fine-tuned model stays usable without it.
  }
  return false;
}

bool TrainingJob::adaptText(const TrainingSetup& setup, const FineTuneCallbacks& callbacks) {
  namespace fs = std::filesystem;
  check_pretraining_run_folder(setup.run_folder);  // a new or empty folder, or a run to resume: before any work
  // The model as it starts, kept for the held-out accuracy before training and the Fill-mask view's before/after.
  TrainerOptions inference;  // no dropout: scoring, fill-mask and saving
  inference.head = TrainHead::MaskedLM;
  inference.dropout = 0;
  before_ = std::make_unique<BertTrainer>(setup.model, *backend_, inference);
  // A run that resumes keeps the sequence length and batch size it started with (its options.json).
  PretrainOptions o;
  o.seq_len = setup.options.max_length;
  o.batch_size = setup.options.batch_size;
  const fs::path run_options = setup.run_folder / "options.json";
  const bool resuming = fs::exists(setup.run_folder / "checkpoint" / "state.json") && fs::exists(run_options);
  if (resuming) {
    const auto saved = read_json_file(run_options);
    o.seq_len = saved.value("seq_len", o.seq_len);
    o.batch_size = saved.value("batch_size", o.batch_size);
  }
  // Packed as pre-training packs the corpus: every line's tokens in one stream, cut into sequences of seq_len - 2.
  std::int64_t tokens = 0;
  for (const std::string& line : setup.text_train) tokens += std::int64_t(tokenizer_->tokenize(line).size());
  const std::int64_t sequences = tokens / (o.seq_len - 2);
  if (sequences < 1)
    throw Error(tr("the training text has %1 tokens, less than one sequence of %2; add text or lower Max tokens")
                    .arg(tokens).arg(o.seq_len).toStdString());
  if (!resuming) o.batch_size = int(std::min<std::int64_t>(o.batch_size, sequences));  // a short text still fills a batch
  const int perEpoch = int((sequences + o.batch_size - 1) / o.batch_size);  // steps
  o.init_from = setup.model.string();
  o.total_steps = perEpoch * setup.options.epochs;
  o.warmup_steps = int(std::lround(setup.options.warmup_ratio * o.total_steps));
  o.learning_rate = setup.options.learning_rate;
  o.weight_decay = setup.options.weight_decay;
  o.dropout = setup.dropout;
  o.seed = setup.options.seed;
  o.log_every = 1;  // every step's loss; what reaches the chart is throttled
  o.eval_every = perEpoch;
  o.checkpoint_every = std::min(perEpoch, 200);  // a checkpoint holds the model and its AdamW moments: not every step

  constexpr std::int64_t kHeldoutMasks = 3000;  // as pre-training evaluates
  const auto score = [&](BertTrainer& model) {
    const MlmLogitsFn logits = [&model](const TokenBatch& b, const std::vector<std::int32_t>& rows) { return model.mlm_logits(b, rows); };
    return evaluate_mlm(logits, *tokenizer_, setup.text_heldout, o.seq_len, 0, kHeldoutMasks);
  };
  if (!setup.text_heldout.empty()) {
    try {
      emit heldoutScored(0, score(*before_));
    } catch (const Error& e) {
      throw Error(tr("the held-out text cannot be scored (%1); raise the held-out share or add text")
                      .arg(QString::fromUtf8(e.what())).toStdString());
    }
  }

  // The paragraphs as files for the pre-training run (it reads the corpus once, into its tokens.bin).
  QTemporaryDir texts;
  if (!texts.isValid()) throw Error("cannot make a temporary folder for the text");
  const fs::path corpus = fs::path(texts.path().toStdString()) / "train.txt";
  const fs::path heldout = setup.text_heldout.empty() ? fs::path() : fs::path(texts.path().toStdString()) / "heldout.txt";
  write_lines(corpus, setup.text_train);
  if (!heldout.empty()) write_lines(heldout, setup.text_heldout);

  double smoothed = -1;
  int scoredStep = -1;
  const auto train_progress = [&](const PretrainProgress& p) {  // the fine-tuning loop's report of a step
    smoothed = smoothed < 0 ? p.loss : 0.9 * smoothed + 0.1 * p.loss;  // as the fine-tuning loop smooths its loss
    TrainProgress t;
    t.step = p.step;
    t.total_steps = p.total_steps;
    t.epochs = (p.total_steps + perEpoch - 1) / perEpoch;
    t.epoch = std::min(t.epochs, (p.step + perEpoch - 1) / perEpoch);
    t.loss = t.step_loss = p.loss;
    t.smoothed_loss = smoothed;
    t.learning_rate = p.learning_rate;
    t.sentences_per_second = p.tokens_per_second / o.seq_len;  // sequences
    t.eta_seconds = p.eta_seconds;
    return t;
  };
  // A resumed run's history: its steps so far from curve.csv, so the charts and the held-out table show the whole
  // run, not only the steps after the resume. At most about 500 loss points (the chart's width); every held-out row.
  if (resuming) {
    const int checkpointStep = read_json_file(setup.run_folder / "checkpoint" / "state.json").value("step", 0);
    const std::vector<PretrainProgress> history = read_pretraining_curve(setup.run_folder, checkpointStep);
    const size_t every = history.size() / 500 + 1;
    for (size_t i = 0; i < history.size(); ++i) {
      const TrainProgress t = train_progress(history[i]);
      if (i % every == 0 || i + 1 == history.size()) emit progress(t);
      if (history[i].heldout) emit heldoutScored(double(history[i].step) / perEpoch, *history[i].heldout);
    }
  }
  PretrainCallbacks cb;
  cb.stop = callbacks.cancelled;
  cb.progress = [&](const PretrainProgress& p) {
    callbacks.progress(train_progress(p));
    if (p.heldout) {
      scoredStep = p.step;
      emit heldoutScored(double(p.step) / perEpoch, *p.heldout);
    }
  };
  const int step = pretrain(setup.run_folder, corpus, {}, heldout, *backend_, o, cb);
  const int total = read_json_file(run_options).value("total_steps", o.total_steps);  // a run may have been extended
  emit runStopped(QString::fromStdString(setup.run_folder.string()), step, total);
  if (step < total) return true;  // cancelled: the checkpoint stays, and Start resumes from it

  trainer_ = std::make_unique<BertTrainer>(setup.run_folder / "checkpoint", *backend_, inference);
  if (!setup.text_heldout.empty() && scoredStep != step) emit heldoutScored(double(step) / perEpoch, score(*trainer_));
  return false;
}

void TrainingJob::tryText(quint64 id, const QString& text) {
  const std::string input = text.toStdString();
  QMetaObject::invokeMethod(worker_, [this, id, input] {
    if (!trainer_ || setup_.task == FineTuneTask::MaskedLanguageModel) return;  // masked LM: tryMask
    if (input.find_first_not_of(" \t\r\n") == std::string::npos) return;
    try {
      makeBefore();
      const int max_length = setup_.options.max_length;
      if (setup_.task == FineTuneTask::TokenClassification) {
        const TaggedSentence sentence = words_of(input);
        QStringList words;
        for (const std::string& w : sentence.words) words << QString::fromStdString(w);
        emit triedTags(id, words, tags_of(*trainer_, *tokenizer_, sentence, max_length),
                       tags_of(*before_, *tokenizer_, sentence, max_length));
        return;
      }
      const QVector<double> after = probabilities(*trainer_, *tokenizer_, input, max_length);
      const QVector<double> before = probabilities(*before_, *tokenizer_, input, max_length);
      emit tried(id, after, before);
    } catch (const std::exception&) {
      // A sentence that cannot be scored (e.g. the model vanished) simply shows nothing new.
    }
  }, Qt::QueuedConnection);
}

void TrainingJob::tryMask(quint64 id, const QString& text, int top_k) {
  const std::string input = text.toStdString();
  QMetaObject::invokeMethod(worker_, [this, id, input, top_k] {
    if (!trainer_ || !before_ || setup_.task != FineTuneTask::MaskedLanguageModel) return;
    emit triedMask(id, guesses_of(*trainer_, *tokenizer_, input, top_k), guesses_of(*before_, *tokenizer_, input, top_k));
  }, Qt::QueuedConnection);
}

void TrainingJob::makeBefore() {
  if (!before_) before_ = std::make_unique<BertTrainer>(setup_.model, *backend_, trainer_->options());
}

void TrainingJob::tryQuestion(quint64 id, const QString& question, const QString& context) {
  const std::string q = question.toStdString(), c = context.toStdString();
  QMetaObject::invokeMethod(worker_, [this, id, q, c] {
    if (!trainer_ || setup_.task != FineTuneTask::QuestionAnswering) return;
    if (q.find_first_not_of(" \t\r\n") == std::string::npos || c.find_first_not_of(" \t\r\n") == std::string::npos) return;
    try {
      makeBefore();
      emit triedAnswer(id, answer_of(*trainer_, *tokenizer_, q, c, setup_.qa), answer_of(*before_, *tokenizer_, q, c, setup_.qa));
    } catch (const std::exception&) {
      // A question that cannot be answered (e.g. the model vanished) simply shows nothing new.
    }
  }, Qt::QueuedConnection);
}

QVector<Mistake> TrainingJob::findMistakes() {
  QVector<Mistake> mistakes;
  const auto name = [this](size_t id) { return QString::fromStdString(setup_.labels.at(id)); };
  const int max_length = setup_.options.max_length;
  if (setup_.task == FineTuneTask::QuestionAnswering) return mistakes;  // the scores table says how it answers
  if (setup_.task == FineTuneTask::TokenClassification) {
    // Sentences with at least one wrongly tagged word; the words cut by max_length (tag "") are not counted.
    const auto predicted = predict_word_tags(*trainer_, *tokenizer_, setup_.tagged_validation, max_length);
    for (size_t s = 0; s < predicted.size(); ++s) {
      const TaggedSentence& sentence = setup_.tagged_validation[s];
      Mistake m;
      QStringList words, gold, got;
      for (size_t w = 0; w < sentence.words.size(); ++w) {
        const QString word = QString::fromStdString(sentence.words[w]);
        words << word;
        if (predicted[s][w].empty() || predicted[s][w] == sentence.tags[w]) continue;
        gold << word + QLatin1Char('/') + QString::fromStdString(sentence.tags[w]);
        got << word + QLatin1Char('/') + QString::fromStdString(predicted[s][w]);
      }
      if (gold.isEmpty()) continue;
      m.text = words.join(QLatin1Char(' '));
      m.gold = gold.join(QLatin1Char(' '));
      m.predicted = got.join(QLatin1Char(' '));
      mistakes << m;
    }
    return mistakes;
  }
  const std::vector<Example>& validation = setup_.validation;
  const size_t labels = setup_.labels.size();
  const std::vector<float> logits = classification_logits(*trainer_, *tokenizer_, validation, max_length);  // (V, L)
  for (size_t i = 0; i < validation.size(); ++i) {
    const std::vector<double> p = softmax(logits.data() + i * labels, labels);
    const size_t best = size_t(std::max_element(p.begin(), p.end()) - p.begin());
    if (int(best) == validation[i].label) continue;
    mistakes << Mistake{QString::fromStdString(validation[i].text), name(size_t(validation[i].label)), name(best), p[best]};
  }
  // The most confident mistakes first: they say most about what the model learned wrong (or a wrong gold label).
  std::stable_sort(mistakes.begin(), mistakes.end(), [](const Mistake& a, const Mistake& b) { return a.confidence > b.confidence; });
  return mistakes;
}

void TrainingJob::save(const QString& folder) {
  const std::filesystem::path out = folder.toStdString();
  QMetaObject::invokeMethod(worker_, [this, out, folder] {
    QString error;
    try {
      if (!trainer_) throw Error("there is no fine-tuned model to save");
      trainer_->save(out);
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    emit saved(folder, error);
  }, Qt::QueuedConnection);
}

}  // namespace bertscope::gui
