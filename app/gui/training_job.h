#pragma once
// TrainingJob: fine-tunes a sentence classifier (labelled sentences), a token classifier (word-tagged sentences:
// named entities, parts of speech) or an extractive question answerer (SQuAD questions), or continues a masked-LM
// model's pre-training on the user's text (a pre-training run folder that resumes, train/pretraining.h), on its own thread (apart from the engine thread that serves the other views),
// reports progress, can be cancelled between steps, lists the validation sentences the fine-tuned model gets wrong,
// and afterwards answers "try a sentence" (or a question on a context) with the fine-tuned model (and the model as it
// started, for before/after) and saves it as a Hugging Face folder.
#include <QObject>
#include <QThread>
#include <atomic>
#include <memory>

#include "data/dataset.h"
#include "data/squad.h"
#include "data/tagged.h"
#include "session.h"
#include "train/bert_trainer.h"
#include "train/fine_tune.h"
#include "train/mlm_eval.h"
#include "tasks/tasks.h"

namespace bertscope::gui {

// What a run trains (the order of the Fine-tune view's task list).
enum class FineTuneTask { SentenceClassification, TokenClassification, QuestionAnswering, MaskedLanguageModel };

struct TrainingSetup {
  FineTuneTask task = FineTuneTask::SentenceClassification;
  std::filesystem::path model;       // the folder to start from
  BackendRequest backend;
  std::vector<std::string> labels;   // names in id order: config.json's id2label (token classification: the tags)
  std::vector<Example> train, validation;                    // sentence classification
  std::vector<TaggedSentence> tagged_train, tagged_validation;  // token classification
  QaData qa_train, qa_validation;  // question answering (v2.0 rules when qa_validation.has_unanswerable)
  QaOptions qa;                    // its windows (max_seq_len, doc_stride) and answer rules
  // Masked LM on the user's text: paragraphs to train on and to hold out, and the pre-training run's folder (new, or
  // a run to resume). options.max_length is the sequence length; epochs are passes over the packed sequences.
  std::vector<std::string> text_train, text_heldout;
  std::filesystem::path run_folder;
  FineTuneOptions options;
  int frozen_layers = 0;
  float dropout = 0.1f;
};

// An answer to a tried question: the context's text from start to end (code points), and its score (p(start) *
// p(end) in its window, as the pipeline gives it). found false: the model gave no answer.
struct TriedAnswer {
  bool found = false;
  QString text;
  double score = 0;
  int start = 0, end = 0;
};

// Masked LM: a fill-mask answer, per mask its best words (best first) and their probabilities; or why there is none.
struct MaskGuesses {
  QString problem;
  QVector<QStringList> words;
  QVector<QVector<double>> scores;
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
  static constexpr double kProgressPerSecond = 10;  // what a progress bar and a chart can show
  explicit TrainingJob(QObject* parent = nullptr);
  ~TrainingJob() override;  // cancels and waits

  void start(const TrainingSetup& setup);
  void cancel() { cancelled_ = true; }
  bool running() const { return running_; }
  bool hasModel() const { return hasModel_; }  // a fine-tuned model is ready to try and save
  // Probabilities per label for `text`, from the fine-tuned model and from the model as it started.
  void tryText(quint64 id, const QString& text);
  // Question answering: the best answer to `question` in `context`, from both models (triedAnswer).
  void tryQuestion(quint64 id, const QString& question, const QString& context);
  // Masked LM: the top_k words for each mask in `text`, from the adapted model and from the model it started from
  // (triedMask).
  void tryMask(quint64 id, const QString& text, int top_k);
  FineTuneTask task() const { return task_; }  // of the last run started
  // Of the last run started: the folder of the model it started from, and (masked LM) its run folder.
  QString startModel() const { return startModel_; }
  QString runFolder() const { return runFolder_; }
  void save(const QString& folder);

 signals:
  void started();  // a new run: the previous model is gone
  void progress(const bertscope::TrainProgress& progress);  // at most about kProgressPerSecond a second
  // Masked LM: held-out masked-token accuracy (as evaluate-mlm measures it) of the starting model (epoch 0), after
  // each epoch and at the end. `epoch` may be fractional at the end of a resumed or cancelled run.
  void heldoutScored(double epoch, const bertscope::MlmEvalResult& result);
  // Masked LM: where the run's checkpoint is and the step it reached (also when cancelled: Start resumes there).
  void runStopped(const QString& folder, int step, int total_steps);
  void epochDone(const bertscope::EpochResult& result);
  void finished(bool cancelled, const QString& error);  // error empty: it worked
  // Before finished(), unless cancelled: whose weights the model holds (early stopping keeps the best epoch's);
  // earlyStopping: patience was on and validation scores were compared.
  void keptEpoch(int epoch, bool stoppedEarly, bool earlyStopping);
  void tried(quint64 id, const QVector<double>& after, const QVector<double>& before);
  // Token classification: the sentence's words (split at spaces) and each word's tag, fine-tuned and before.
  void triedTags(quint64 id, const QStringList& words, const QStringList& after, const QStringList& before);
  void triedAnswer(quint64 id, const bertscope::gui::TriedAnswer& after, const bertscope::gui::TriedAnswer& before);
  void triedMask(quint64 id, const bertscope::gui::MaskGuesses& after, const bertscope::gui::MaskGuesses& before);
  void mistakesFound(const QVector<bertscope::gui::Mistake>& mistakes);  // before finished(), unless cancelled
  void saved(const QString& folder, const QString& error);

 private:
  QThread thread_;
  QObject* worker_;  // lives on thread_
  std::atomic<bool> cancelled_{false};
  bool running_ = false, hasModel_ = false;
  FineTuneTask task_ = FineTuneTask::SentenceClassification;
  QString startModel_, runFolder_;
  QVector<Mistake> findMistakes();  // on the worker thread, after training
  // Touched only on the worker thread:
  TrainingSetup setup_;
  BackendRequest backendMade_;  // what backend_ was made for
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::unique_ptr<BertTrainer> trainer_, before_;
  void makeBefore();  // before_: the model as training started (same folder and seed, so the same new head)
  // Fine-tunes a head; true when cancelled.
  bool fineTune(const TrainingSetup& setup, const Pretrained& model, const FineTuneCallbacks& callbacks);
  bool adaptText(const TrainingSetup& setup, const FineTuneCallbacks& callbacks);  // masked LM; true when cancelled
};

}  // namespace bertscope::gui

Q_DECLARE_METATYPE(bertscope::TrainProgress)
Q_DECLARE_METATYPE(bertscope::EpochResult)
Q_DECLARE_METATYPE(bertscope::gui::Mistake)
Q_DECLARE_METATYPE(bertscope::gui::TriedAnswer)
Q_DECLARE_METATYPE(bertscope::gui::MaskGuesses)
Q_DECLARE_METATYPE(bertscope::MlmEvalResult)
