#pragma once
// TrainingJob: fine-tunes a sentence classifier (labelled sentences) or a token classifier (word-tagged sentences:
// named entities, parts of speech) on its own thread (apart from the engine thread that serves the other views),
// reports progress, can be cancelled between steps, lists the validation sentences the fine-tuned model gets wrong,
// and afterwards answers "try a sentence" with the fine-tuned model (and the model as it started, for before/after)
// and saves it as a Hugging Face folder.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "data/dataset.h"
#include "data/tagged.h"
#include "session.h"
#include "train/bert_trainer.h"
#include "train/fine_tune.h"

namespace bertscope::gui {

// What a run trains. QA HOOK: question answering (SQuAD files, engine/train/qa_fine_tune.h) becomes a third task
// here, with its data in TrainingSetup, its branch in TrainingJob::start (and tryText), and its data panel and entry
// in FineTunePage's task list (fine_tune_page.cpp, "QA HOOK").
enum class FineTuneTask { SentenceClassification, TokenClassification };

struct TrainingSetup {
  FineTuneTask task = FineTuneTask::SentenceClassification;
  std::filesystem::path model;       // the folder to start from
  BackendRequest backend;
  std::vector<std::string> labels;   // names in id order: config.json's id2label (token classification: the tags)
  std::vector<Example> train, validation;                    // sentence classification
  std::vector<TaggedSentence> tagged_train, tagged_validation;  // token classification
  FineTuneOptions options;
  int frozen_layers = 0;
  float dropout = 0.1f;
};

// A validation sentence the fine-tuned model gets wrong, after the last epoch.
struct Mistake {
  QString text;
  QString gold, predicted;  // label names; token classification: the wrongly tagged words, as "word/TAG ..."
  double confidence = -1;   // the predicted label's probability (sentence classification; -1: none)
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
  // Token classification: the sentence's words (split at spaces) and each word's tag, fine-tuned and before.
  void triedTags(quint64 id, const QStringList& words, const QStringList& after, const QStringList& before);
  void mistakesFound(const QVector<bertscope::gui::Mistake>& mistakes);  // before finished(), unless cancelled
  void saved(const QString& folder, const QString& error);

 private:
  QThread thread_;
  QObject* worker_;  // lives on thread_
  std::atomic<bool> cancelled_{false};
  bool running_ = false, hasModel_ = false;
  QVector<Mistake> findMistakes();  // on the worker thread, after training
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
Q_DECLARE_METATYPE(bertscope::gui::Mistake)
