#pragma once
// Tokenization view: type a text (and an optional second sentence) and see its WordPiece tokens as chips and as a
// table. Hovering a token highlights the characters it came from; hovering the text highlights its token.
#include "task_page.h"

class QCheckBox;
class QLabel;
class QPlainTextEdit;
class QTableView;

namespace bertscope::gui {

class TokenStrip;
class TokenTableModel;

class TokenizePage : public TaskPage {
  Q_OBJECT
 public:
  TokenizePage(EngineClient* engine, QWidget* parent = nullptr);
  void setText(const QString& text, const QString& pair = {});
  void refresh() override;  // re-tokenize now (after a model load)

  // For tests and screenshots.
  TokenTableModel* tokenModel() const { return model_; }
  TokenStrip* strip() const { return strip_; }
  QPlainTextEdit* textEditor() const { return text_; }
  QString summary() const;

 private:
  void showEncoding(const ShownEncoding& shown);
  void highlightToken(int token);
  int tokenAtTextPosition(int sequence, int utf16_position) const;
  bool eventFilter(QObject* watched, QEvent* event) override;

  QPlainTextEdit* text_;
  QPlainTextEdit* pair_;
  QCheckBox* showIds_;
  QLabel* summary_;
  TokenStrip* strip_;
  QTableView* table_;
  TokenTableModel* model_;
  QString requestedText_, requestedPair_;  // what the shown encoding's offsets point into
  QString shownText_, shownPair_;
};

}  // namespace bertscope::gui
