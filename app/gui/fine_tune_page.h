#pragma once
// Fine-tune view: choose the task, then its data: a CSV of labelled sentences (check the preview and the detected
// columns, name the labels) or, for token classification (named entities, parts of speech), a CoNLL / JSON-lines file
// of word-tagged sentences; set the hyper-parameters, then Start (and Cancel); a progress bar with ETA, live loss and
// validation charts, the confusion matrix (or the scores per tag) and the misclassified validation sentences follow
// the run; afterwards try sentences (fine-tuned vs as it started) and Save the model.
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

class MessageLine;
class ResultTableModel;
class TaggedDataPanel;

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
  // Sentence classification: a row per label of the file (value, sentences, name); the names, editable, become
  // config.json's id2label. False when `label` is out of range.
  QTableWidget* labelNames() const { return labelNames_; }
  bool setLabelName(int label, const QString& name);
  QString suggestedSaveFolder() const;  // a free name beside the data file (else in the home folder)
  void setColumns(const QString& text, const QString& label);
  void setEpochs(int epochs);
  void setLearningRate(double rate);
  void start();
  void cancel();
  void trySentence(const QString& text);
  void saveTo(const QString& folder);

  TrainingJob* job() const { return job_; }
  ResultTableModel* preview() const { return preview_; }
  ResultTableModel* tryResults() const { return tryResults_; }  // sentence classification: label, after, before
  ResultTableModel* tryTags() const { return tryTags_; }        // token classification: word, tag after, tag before
  ResultTableModel* mistakes() const { return mistakes_; }      // misclassified validation sentences, last epoch
  MessageLine* message() const { return message_; }
  QString dataSummary() const;
  QTableWidget* confusion() const { return confusion_; }
  QChartView* lossChart() const { return lossChart_; }
  QChartView* validationChart() const { return accuracyChart_; }
  QPlainTextEdit* skippedRows() const { return skipped_; }  // hidden when no row was skipped
  QScrollArea* scrollArea() const { return scroll_; }       // everything below the message line
  // The open "train anyway?" question (tiny data, a label with one example, ...), or null.
  QMessageBox* confirmation() const;

 signals:
  void openModelRequested(const QString& folder);  // "Open the saved model"

 private:
  void reloadCsv();
  void readColumns();  // labelled examples from the chosen columns
  void setRunning(bool running);
  void showSkipped();  // the table's and the columns' skipped rows, with their lines and reasons
  QStringList dataWarnings(const Split& split) const;  // why this data may not train a useful classifier
  QStringList labelNamesChosen(QString* error) const;  // the names column, checked: none empty, no two alike
  void showLabelNames();                              // a row per label of data_, keeping names already given
  void run(const Split& split, const QStringList& names);
  void runTagger();
  void startRun(TrainingSetup setup);  // what both tasks share: options, cleared results, the job
  void showMistakes(const QVector<Mistake>& mistakes);
  void showEpoch(const EpochResult& result);
  void showTaggingEpoch(const EpochResult& result);  // token classification: scores per entity type or tag

  MessageLine* message_;
  QComboBox* task_;
  QStackedWidget* dataPages_;  // the task's data: the CSV widgets, or tagged_
  TaggedDataPanel* tagged_;
  QTableWidget* labelNames_;
  QLineEdit* path_;
  QPushButton* choose_;  // disabled while training: the run's data stays the data shown
  QComboBox* delimiter_;
  QComboBox* header_;
  QCheckBox* stopOnBad_;
  QLabel* summary_;
  ResultTableModel* preview_;
  QComboBox* textColumn_;
  QComboBox* labelColumn_;
  QLabel* labels_;
  QSpinBox *epochs_, *batch_, *maxLength_, *seed_, *freeze_;
  QDoubleSpinBox *learningRate_, *validation_, *dropout_;
  QPushButton *start_, *cancel_, *save_, *openSaved_;
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
  FineTuneTask trainedTask_ = FineTuneTask::SentenceClassification;  // of the last run: what its results show
  QTableView* previewTable_;
  QPlainTextEdit* skipped_;
  QScrollArea* scroll_;
  QPointer<QMessageBox> confirm_;
  double smoothedLoss_ = 0;
  QLineEdit* tryText_;
  ResultTableModel* tryResults_;
  TrainingJob* job_;
  Ptr<LoadedModel> model_;
  std::optional<CsvTable> table_;
  std::optional<LabelledData> data_;
  std::vector<std::string> trainedLabels_;
  QString savedFolder_;
  quint64 tryId_ = 0;
};

}  // namespace bertscope::gui
