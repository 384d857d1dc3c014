#pragma once
// Masked-word playground: a sentence with [MASK]s; the top-k words for each mask, with probability bars, update as
// you type. Click a word of the sentence to mask it; click a prediction to put it into the sentence.
#include <QWidget>

#include "engine_client.h"

class QLineEdit;
class QSpinBox;
class QTableView;
class QTimer;

namespace bertscope::gui {

class MessageLine;
class ResultTableModel;
class TokenStrip;

class FillMaskPage : public QWidget {
  Q_OBJECT
 public:
  FillMaskPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);  // enables the page, or explains why it cannot run
  void setText(const QString& text);
  QString text() const;
  void refresh();

  void maskToken(int token);                  // replaces the word holding `token` with [MASK]
  void applyPrediction(int mask, const QString& word);  // fills mask number `mask` (0-based) with `word`

  // For tests and screenshots.
  ResultTableModel* predictions() const { return predictions_; }
  MessageLine* message() const { return message_; }

 private:
  void showResult(const FillMaskResult& result);

  EngineClient* engine_;
  QLineEdit* text_;
  QSpinBox* topK_;
  MessageLine* message_;
  TokenStrip* strip_;
  QTableView* table_;
  ResultTableModel* predictions_;
  QTimer* debounce_;
  quint64 latest_ = 0;
  bool usable_ = false;
  QString requestedText_;
  QString shownText_;                  // the text the shown result's offsets point into
  std::shared_ptr<const FillMaskResult> shown_;
};

}  // namespace bertscope::gui
