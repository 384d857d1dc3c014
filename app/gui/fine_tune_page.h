#pragma once
// Fine-tune view: choose the task, then its data: a CSV of labelled sentences (check the preview and the detected
// columns, name the labels); for token classification (named entities, parts of speech), a CoNLL / JSON-lines file
// of word-tagged sentences (tagged_data_panel.h); for question answering, SQuAD questions (qa_data_panel.h); for
// masked LM on the user's text, text files and the pre-training run's folder (text_data_panel.h). Set
// the hyper-parameters, then Start (and Cancel); a progress bar with ETA, live loss and validation charts
// (fine_tune_charts.h), the confusion matrix, the scores per tag or SQuAD's scores (fine_tune_scores.h) and the
// misclassified validation sentences follow the run; afterwards try sentences, or a question on a context (fine-tuned
// vs as it started: entities highlighted by tagged_try_view.h, answers by qa_try_panel.h) and Save the model. Export
// training script writes the job set up here as a Hugging Face Trainer script (fine_tune_script.h).
#include <QPointer>
#include <QWidget>
#include <optional>

#include "data/csv.h"
#include "data/dataset.h"
#include "engine_client.h"
#include "training_job.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QLineSeries;
class QChartView;
class QMessageBox;
class QPlainTextEdit;
class QScrollArea;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QTableWidget;

namespace bertscope::gui {

class CsvDataPanel;
class FineTuneScript;
class MessageLine;
class QaDataPanel;
class QaTryPanel;
class ResultTableModel;
class TaggedDataPanel;
class TextDataPanel;
class TaggedTryView;

class FineTunePage : public QWidget {
  Q_OBJECT
 public:
  FineTunePage(QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);  // the model training starts from
  void setTask(FineTuneTask task);
  FineTuneTask task() const;
  bool loadCsv(const QString& path);              // false (and a message) when it cannot be read
  // Token classification: the training file (CoNLL or JSON lines), and a validation file (empty: hold out the
  // validation share of the training sentences). False (and a message) when it cannot be read.
  bool loadTaggedFile(const QString& path);
  bool loadTaggedValidation(const QString& path);
  TaggedDataPanel* taggedData() const { return tagged_; }
  // Question answering: SQuAD JSON or JSON lines, and a validation file (empty: hold out the validation share of the
  // training paragraphs). False (and a message) when it cannot be read.
  bool loadQaFile(const QString& path);
  bool loadQaValidation(const QString& path);
  QaDataPanel* qaData() const { return qa_; }
  // Masked LM on my text: text files, one paragraph a line (the validation share of the lines is held out). False
  // (and a message) when one cannot be used.
  bool loadTextFiles(const QStringList& paths);
  TextDataPanel* textData() const { return text_; }
  // Masked LM: held-out masked-token accuracy, a row per evaluation (before training, each epoch, the end).
  QTableWidget* heldoutScores() const { return confusion_; }
  // Sentence classification: a row per label of the file (value, sentences, name); the names, editable, become
  // config.json's id2label. False when `label` is out of range.
  QTableWidget* labelNames() const;
  bool setLabelName(int label, const QString& name);
  QString suggestedSaveFolder() const;  // a free name beside the data file (else in the home folder)
  void setColumns(const QString& text, const QString& label);
  void setEpochs(int epochs);
  void setMaxLength(int tokens);
  void setLearningRate(double rate);
  void setPatience(int epochs);  // early stopping: epochs without a better validation score (0: off)
  QSpinBox* patience() const { return patience_; }
  // What the hyper-parameters started from: training_defaults fitted to the model and task, and why.
  QLabel* defaultsNote() const { return defaultsNote_; }
  double learningRate() const;
  int epochs() const;
  void start();  // checks the data; asks first before training on doubtful data or discarding an unsaved model
  void cancel();
  void trySentence(const QString& text);
  void tryQuestion(const QString& question, const QString& context);  // question answering
  void saveTo(const QString& folder);
  // Export training script: the job set up here (task, model, data files, columns, label names, hyper-parameters
  // and seed) written to `file` as a Python script for Hugging Face's Trainer, the script `bertscope-cli train
  // --export-script` writes (fine_tune_script.h). Written atomically; over an existing file only because the Save
  // dialog asked first. False, with the reason in the message line, when the job is not complete (no training file,
  // ...) or the file cannot be written.
  bool exportScript(const QString& file);
  QPushButton* exportScriptButton() const { return exportScript_; }

  TrainingJob* job() const { return job_; }
  ResultTableModel* preview() const;
  ResultTableModel* tryResults() const { return tryResults_; }  // sentence classification: label, after, before
  QTableView* tryTable() const { return tryTable_; }
  ResultTableModel* tryTags() const { return tryTags_; }        // token classification: word, tag after, tag before
  TaggedTryView* tryEntities() const { return tryEntities_; }  // entity tags: the sentence highlighted, after, before
  QaTryPanel* qaTry() const { return qaTry_; }                 // question answering: answers after and before
  ResultTableModel* mistakes() const { return mistakes_; }      // misclassified validation sentences, last epoch
  MessageLine* message() const { return message_; }
  QString dataSummary() const;
  QTableWidget* confusion() const { return confusion_; }
  QChartView* lossChart() const { return lossChart_; }
  QChartView* validationChart() const { return accuracyChart_; }
  QPlainTextEdit* skippedRows() const;  // hidden when no row was skipped
  QScrollArea* scrollArea() const { return scroll_; }       // everything below the message line
  // The open question before a run ("discard the unsaved fine-tuned model?", then "train anyway?" on tiny data, a
  // label with one example, ...), or null.
  QMessageBox* confirmation() const;

 signals:
  void openModelRequested(const QString& folder);  // "Open the saved model"

 private:
  friend class FineTuneScript;  // reads the boxes and panels into the engine's TrainingJob
  void setRunning(bool running);
  void run(const Split& split, const QStringList& names);
  void askToDiscardUnsavedModel(TrainingSetup setup);
  void runTagger();
  void runQa();
  void runText();  // masked LM on the user's text
  void showHeldout(double epoch, const MlmEvalResult& result);
  QString lastEpochNote() const;  // masked LM: which epoch Save stores
  void showResultsLayout(FineTuneTask task, const std::vector<std::string>& labels);
  // The fitted defaults (train/training_defaults.h) for the model and task into the boxes the user has not changed.
  void fitDefaults();
  void clearResults();
  void startRun(TrainingSetup setup);  // what both tasks share: options, cleared results, the job
  void showMistakes(const QVector<Mistake>& mistakes);
  void showEpoch(const EpochResult& result);
  void showTaggingEpoch(const EpochResult& result);  // token classification: scores per entity type or tag
  void showQaEpoch(const EpochResult& result);       // question answering: SQuAD's exact match and F1

  MessageLine* message_;
  QComboBox* task_;
  QStackedWidget* dataPages_;  // the task's data (index = FineTuneTask): csv_, tagged_ or qa_
  CsvDataPanel* csv_;          // each disabled while training: the run's data stays the data shown
  TaggedDataPanel* tagged_;
  QaDataPanel* qa_;
  TextDataPanel* text_;
  QSpinBox *epochs_, *batch_, *maxLength_, *seed_, *freeze_;
  QDoubleSpinBox *learningRate_, *validation_, *dropout_;
  QSpinBox* patience_;
  QLabel* defaultsNote_;
  // The values fitDefaults last put in the boxes: a box holding another value was set by the user and is kept.
  int fittedEpochs_ = 0, fittedBatch_ = 0;
  double fittedRate_ = 0;
  QPushButton *start_, *cancel_, *save_, *openSaved_, *exportScript_;
  QProgressBar* progress_;
  QLabel* status_;
  QLineSeries* loss_;
  QLineSeries* accuracy_;
  QLineSeries* f1_;
  QChartView* lossChart_;
  QChartView* accuracyChart_;
  QTableWidget* confusion_;  // token classification: precision, recall, F1 per entity type (or tag)
  QTabWidget* details_;      // the confusion matrix and the misclassified sentences
  ResultTableModel* mistakes_;
  QTableView* tryTable_;
  ResultTableModel* tryTags_;
  TaggedTryView* tryEntities_;
  QaTryPanel* qaTry_;
  QString triedText_;  // the sentence last sent to be tagged (its words are found in it to highlight them)
  FineTuneTask trainedTask_ = FineTuneTask::SentenceClassification;  // of the last run: what its results show
  QScrollArea* scroll_;
  QPointer<QMessageBox> confirm_;
  double lossTop_ = 0.1;  // the loss chart's highest point so far: the y axis grows without rescanning every point
  QLineEdit* tryText_;
  ResultTableModel* tryResults_;
  TrainingJob* job_;
  Ptr<LoadedModel> model_;
  std::vector<std::string> trainedLabels_;
  QString savedFolder_;
  QString csvProblem_;  // why the chosen CSV gives no data (the panel's last failure); empty once it reads
  // The last run's model is in memory only (not saved, not masked LM, whose run folder keeps it): a new run, which
  // replaces it, asks first.
  bool unsavedModel_ = false;
  QString runStopped_;  // masked LM: where the run stopped, for the finished message
  std::optional<MlmEvalResult> heldoutBefore_, heldoutLast_;
  std::optional<std::pair<double, MlmEvalResult>> heldoutBest_;  // the epoch with the best held-out top-1, and its scores
  quint64 tryId_ = 0;
};

}  // namespace bertscope::gui
