#pragma once
// Fine-tune view: pick a CSV of labelled sentences, check the preview and the detected columns, set the
// hyper-parameters, then Start (and Cancel); a progress bar with ETA, live loss and accuracy charts and the
// confusion matrix follow the run; afterwards try sentences (fine-tuned vs as it started) and Save the model.
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
class QTableView;
class QTableWidget;

namespace bertscope::gui {

class MessageLine;
class ResultTableModel;

class FineTunePage : public QWidget {
  Q_OBJECT
 public:
  FineTunePage(QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);  // the model training starts from
  bool loadCsv(const QString& path);              // false (and a message) when it cannot be read
  void setColumns(const QString& text, const QString& label);
  void setEpochs(int epochs);
  void setLearningRate(double rate);
  void start();
  void cancel();
  void trySentence(const QString& text);
  void saveTo(const QString& folder);

  TrainingJob* job() const { return job_; }
  ResultTableModel* preview() const { return preview_; }
  ResultTableModel* tryResults() const { return tryResults_; }
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
  void run(const Split& split);
  void showEpoch(const EpochResult& result);

  MessageLine* message_;
  QLineEdit* path_;
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
  QTableWidget* confusion_;
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
