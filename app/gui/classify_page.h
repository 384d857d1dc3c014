#pragma once
// Sequence classification and next-sentence prediction: label probabilities as bars, for the heads the model has.
#include <QWidget>

#include "engine_client.h"

class QLineEdit;
class QPlainTextEdit;
class QTableView;
class QTimer;

namespace bertscope::gui {

class MessageLine;
class ResultTableModel;

class ClassifyPage : public QWidget {
  Q_OBJECT
 public:
  ClassifyPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);
  void setText(const QString& text, const QString& pair = {});
  void refresh();
  QString pairText() const;  // the optional second sentence

  ResultTableModel* labels() const { return labels_; }
  ResultTableModel* nextSentence() const { return nsp_; }
  MessageLine* message() const { return message_; }

 private:
  EngineClient* engine_;
  QPlainTextEdit* text_;
  QLineEdit* pair_;
  MessageLine* message_;
  QTableView* labelTable_;
  QTableView* nspTable_;
  ResultTableModel* labels_;
  ResultTableModel* nsp_;
  QTimer* debounce_;
  quint64 latest_ = 0;
  Ptr<LoadedModel> model_;
};

}  // namespace bertscope::gui
