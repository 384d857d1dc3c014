#pragma once
// Question answering: a question and a context; the best answer highlighted in the context with its score, the
// top spans in a table, and the start/end logits over the tokens of the answer's window as a chart.
#include "task_page.h"

class QChart;
class QChartView;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QTableView;

namespace bertscope::gui {

class ResultTableModel;

class QaPage : public TaskPage {
  Q_OBJECT
 public:
  QaPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);
  void setInput(const QString& question, const QString& context);
  void refresh() override;
  void showAnswer(int rank);  // highlight answer `rank` and chart its window

  ResultTableModel* answers() const { return answers_; }
  QString answerText() const;

 private:
  void showResult(const QaResult& result);
  void showFailure(const QString& error) override;

  QLineEdit* question_;
  QPlainTextEdit* context_;
  QSpinBox* topK_;
  QLabel* best_;
  QTableView* table_;
  ResultTableModel* answers_;
  QChartView* chartView_;
  QWidget* results_;
  bool usable_ = false;
  QString requestedContext_, shownContext_;
  std::shared_ptr<const QaResult> shown_;
};

}  // namespace bertscope::gui
