#include "training_job.h"

#include <QMetaObject>

#include "core/error.h"
#include "model/pretrained.h"
#include "tasks/tasks.h"

namespace bertscope::gui {

namespace {
QVector<double> probabilities(BertTrainer& trainer, const Tokenizer& tokenizer, const std::string& text, int max_length) {
  const Example example{text, 0, 0};
  const TokenBatch batch = sentence_batch(tokenizer, {&example}, max_length);
  const std::vector<float> logits = trainer.classification_logits(batch);
  const std::vector<double> p = softmax(logits.data(), logits.size());
  return QVector<double>(p.begin(), p.end());
}
}  // namespace

TrainingJob::TrainingJob(QObject* parent) : QObject(parent) {
  qRegisterMetaType<bertscope::TrainProgress>();
  qRegisterMetaType<bertscope::EpochResult>();
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
      options.labels = setup.labels;
      options.dropout = setup.dropout;
      options.frozen_layers = setup.frozen_layers;
      options.seed = setup.options.seed;
      trainer_ = std::make_unique<BertTrainer>(model, *backend_, options);
      FineTuneCallbacks callbacks;
      callbacks.progress = [this](const TrainProgress& p) { emit progress(p); };  // queued to the UI thread
      callbacks.epoch_done = [this](const EpochResult& r) { emit epochDone(r); };
      callbacks.cancelled = [this] { return cancelled_.load(); };
      const FineTuneResult result = fine_tune(*trainer_, *tokenizer_, setup.train, setup.validation, setup.options, callbacks);
      cancelled = result.cancelled;
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

void TrainingJob::tryText(quint64 id, const QString& text) {
  const std::string input = text.toStdString();
  QMetaObject::invokeMethod(worker_, [this, id, input] {
    if (!trainer_ || input.find_first_not_of(" \t\r\n") == std::string::npos) return;
    try {
      if (!before_) {  // the model as training started: same folder, same seed, so the same new head
        TrainerOptions options = trainer_->options();
        before_ = std::make_unique<BertTrainer>(setup_.model, *backend_, options);
      }
      const QVector<double> after = probabilities(*trainer_, *tokenizer_, input, setup_.options.max_length);
      const QVector<double> before = probabilities(*before_, *tokenizer_, input, setup_.options.max_length);
      emit tried(id, after, before);
    } catch (const std::exception&) {
      // A sentence that cannot be scored (e.g. the model vanished) simply shows nothing new.
    }
  }, Qt::QueuedConnection);
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
