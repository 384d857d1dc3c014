#pragma once
// TrainingJob: fine-tunes a classifier on its own thread (apart from the engine thread that serves the other
// views), reports progress, can be cancelled between steps, and afterwards answers "try a sentence" with the
// fine-tuned model (and the model as it started, for before/after) and saves it as a Hugging Face folder.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "data/dataset.h"
#include "session.h"
#include "train/bert_trainer.h"
#include "train/fine_tune.h"

namespace bertscope::gui {

struct TrainingSetup {
  std::filesystem::path model;       // the folder to start from
  BackendRequest backend;
  std::vector<std::string> labels;
  std::vector<Example> train, validation;
  FineTuneOptions options;
  int frozen_layers = 0;
  float dropout = 0.1f;
};

class TrainingJob : public QObject {
  Q_OBJECT
 public:
  explicit TrainingJob(QObject* parent = nullptr);
  ~TrainingJob() override;  // cancels and waits

  void start(const TrainingSetup& setup);
  void cancel() { cancelled_ = true; }
  bool running() const { return running_; }
  bool hasModel() const { return hasModel_; }  // a fine-tuned model is ready to try and save
  // Probabilities per label for `text`, from the fine-tuned model and from the model as it started.
  void tryText(quint64 id, const QString& text);
  void save(const QString& folder);

 signals:
  void progress(const bertscope::TrainProgress& progress);
  void epochDone(const bertscope::EpochResult& result);
  void finished(bool cancelled, const QString& error);  // error empty: it worked
  void tried(quint64 id, const QVector<double>& after, const QVector<double>& before);
  void saved(const QString& folder, const QString& error);

 private:
  QThread thread_;
  QObject* worker_;  // lives on thread_
  std::atomic<bool> cancelled_{false};
  bool running_ = false, hasModel_ = false;
  // Touched only on the worker thread:
  TrainingSetup setup_;
  BackendRequest backendMade_;  // what backend_ was made for
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::unique_ptr<BertTrainer> trainer_, before_;
};

}  // namespace bertscope::gui

Q_DECLARE_METATYPE(bertscope::TrainProgress)
Q_DECLARE_METATYPE(bertscope::EpochResult)
