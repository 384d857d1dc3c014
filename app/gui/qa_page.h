#pragma once
// Question answering: a question and a context; the best answer highlighted in the context with its score, the
// top spans in a table, and the start/end logits over the tokens of the answer's window as a chart.
#include "task_page.h"

class QChart;
class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace bertscope::gui {

class AblationBanner;
class CompareBanner;
class ResultTableModel;

class QaPage : public TaskPage {
  Q_OBJECT
 public:
  QaPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);
  void setInput(const QString& question, const QString& context);
  void refresh() override;
  void showAnswer(int rank);  // highlight answer `rank` and chart its window
  void explainAnswer(int rank);  // the saliency strip explains answer `rank`'s start or end (answerSide())
  QComboBox* answerSide() const { return side_; }

  ResultTableModel* answers() const { return answers_; }
  QString answerText() const;
  AblationBanner* ablationBanner() const { return ablationBanner_; }  // "N heads switched off", while any are
  CompareBanner* compareBanner() const { return compareBanner_; }     // both models' names, while comparing

 private:
  void showResult(const QaResult& result);
  void showFailure(const QString& error) override;

  QLineEdit* question_;
  QPlainTextEdit* context_;
  QSpinBox* topK_;
  QPushButton* answer_;  // asks now, without waiting for the typing pause
  QLabel* best_;
  QTableView* table_;
  ResultTableModel* answers_;
  QChartView* chartView_;
  QWidget* results_;
  bool usable_ = false;
  QString requestedContext_, shownContext_;
  std::shared_ptr<const QaResult> shown_;
  QComboBox* side_;                     // saliency: the answer's start or end
  std::shared_ptr<const QaResult> explainedResult_;  // what the saliency request asked for last: an answer of this
  int explainedRank_ = -1, explainedSide_ = -1;       // result, and which side of it
  AblationBanner* ablationBanner_;
  CompareBanner* compareBanner_;
};

}  // namespace bertscope::gui
