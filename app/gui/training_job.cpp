#include "training_job.h"

#include <QMetaObject>
#include <algorithm>

#include "core/error.h"
#include "model/pretrained.h"
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
      TrainerOptions options;
      const bool tokens = setup.task == FineTuneTask::TokenClassification;
      const bool qa = setup.task == FineTuneTask::QuestionAnswering;
      options.head = qa ? TrainHead::QuestionAnswering : tokens ? TrainHead::TokenClassification : TrainHead::SequenceClassification;
      if (!qa) options.labels = setup.labels;
      options.dropout = setup.dropout;
      options.frozen_layers = setup.frozen_layers;
      options.seed = setup.options.seed;
      trainer_ = std::make_unique<BertTrainer>(model, *backend_, options);
      FineTuneCallbacks callbacks;
      // Queued to the UI thread: about 10 a second (and each epoch's end), not one per step, which on a small model
      // is hundreds a second and would flood the event queue and the chart.
      callbacks.progress = [this, throttle = ProgressThrottle(kProgressPerSecond)](const TrainProgress& p) mutable {
        if (throttle.due(ProgressThrottle::ends_epoch(p))) emit progress(p);
      };
      callbacks.epoch_done = [this](const EpochResult& r) { emit epochDone(r); };
      callbacks.cancelled = [this] { return cancelled_.load(); };
      const FineTuneResult result =
          qa ? fine_tune_qa(*trainer_, *tokenizer_,
                            qa_train_features(*tokenizer_, setup.qa_train.examples, setup.qa.max_seq_len, setup.qa.doc_stride),
                            setup.qa_validation, setup.options, setup.qa, callbacks)
          : tokens ? fine_tune_tagger(*trainer_, *tokenizer_, setup.tagged_train, setup.tagged_validation, setup.options, callbacks)
                   : fine_tune(*trainer_, *tokenizer_, setup.train, setup.validation, setup.options, callbacks);
      cancelled = result.cancelled;
      if (!cancelled) {  // early stopping compared scores only when there was a validation set
        const bool compared = setup.options.patience > 0 && has_validation_score(result.epochs.back());
        emit keptEpoch(result.kept_epoch, result.stopped_early, compared);
      }
      if (cancelled) trainer_.reset();
      else {
        try {
          emit mistakesFound(findMistakes());
        } catch (const std::exception&) {
          // The list is an extra: the fine-tuned model stays usable without it.
        }
      }
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

void TrainingJob::tryText(quint64 id, const QString& text) {
  const std::string input = text.toStdString();
  QMetaObject::invokeMethod(worker_, [this, id, input] {
    if (!trainer_ || input.find_first_not_of(" \t\r\n") == std::string::npos) return;
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
  constexpr size_t kBatch = 32;
  const std::vector<Example>& validation = setup_.validation;
  for (size_t start = 0; start < validation.size(); start += kBatch) {
    std::vector<const Example*> chunk;
    for (size_t i = start; i < std::min(validation.size(), start + kBatch); ++i) chunk.push_back(&validation[i]);
    const TokenBatch batch = sentence_batch(*tokenizer_, chunk, max_length);
    const std::vector<float> logits = trainer_->classification_logits(batch);  // (B, L)
    const size_t labels = setup_.labels.size();
    for (size_t b = 0; b < chunk.size(); ++b) {
      const std::vector<double> p = softmax(logits.data() + b * labels, labels);
      const size_t best = size_t(std::max_element(p.begin(), p.end()) - p.begin());
      if (int(best) == chunk[b]->label) continue;
      mistakes << Mistake{QString::fromStdString(chunk[b]->text), name(size_t(chunk[b]->label)), name(best), p[best]};
    }
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
