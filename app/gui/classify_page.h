#pragma once
// Sequence classification and next-sentence prediction: label probabilities as bars, for the heads the model has.
#include "task_page.h"

class QLineEdit;
class QPlainTextEdit;
class QTableView;

namespace bertscope::gui {

class AblationBanner;
class CompareBanner;
class ResultTableModel;

class ClassifyPage : public TaskPage {
  Q_OBJECT
 public:
  ClassifyPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);
  void setText(const QString& text, const QString& pair = {});
  void refresh() override;
  QString pairText() const;  // the optional second sentence
  void explainLabel(int label);  // the saliency strip explains label `label` (its id: a row of labels())

  ResultTableModel* labels() const { return labels_; }
  ResultTableModel* nextSentence() const { return nsp_; }
  AblationBanner* ablationBanner() const { return ablationBanner_; }  // "N heads switched off", while any are
  CompareBanner* compareBanner() const { return compareBanner_; }     // both models' names, while comparing

 private:
  QPlainTextEdit* text_;
  QLineEdit* pair_;
  QTableView* labelTable_;
  QTableView* nspTable_;
  ResultTableModel* labels_;
  ResultTableModel* nsp_;
  Ptr<LoadedModel> model_;
  AblationBanner* ablationBanner_;
  CompareBanner* compareBanner_;
};

}  // namespace bertscope::gui
