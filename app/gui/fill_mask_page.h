#pragma once
// Masked-word playground: a sentence with the model's mask token ([MASK], RoBERTa's <mask>); the top-k words for each mask, with probability bars, update as
// you type. Click a word of the sentence to mask it; click a prediction to put it into the sentence.
#include <QWidget>

#include "engine_client.h"

class QLabel;
class QLineEdit;
class QSpinBox;
class QTableView;
class QTimer;

namespace bertscope::gui {

class MessageLine;
class ResultTableModel;
class TokenStrip;

// The example sentence for a model whose mask token is `mask` ("The [MASK] sat on the mat.").
QString sampleSentence(const QString& mask);

class FillMaskPage : public QWidget {
  Q_OBJECT
 public:
  FillMaskPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);  // enables the page, or explains why it cannot run
  void setText(const QString& text);
  QString text() const;
  void refresh();

  void maskToken(int token);                  // replaces the word holding `token` with the mask token
  void applyPrediction(int mask, int rank);   // fills mask number `mask` (0-based) with its prediction `rank`
  QString maskText() const { return mask_; }  // the model's mask token, "[MASK]" or "<mask>"

  // For tests and screenshots.
  ResultTableModel* predictions() const { return predictions_; }
  MessageLine* message() const { return message_; }

 private:
  void showResult(const FillMaskReply& reply);
  void showMaskHints();  // placeholder, hint and notice name the model's mask token

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
  Ptr<FillMaskReply> shown_;
  QString mask_ = QStringLiteral("[MASK]");
  QLabel* hint_;
};

}  // namespace bertscope::gui
