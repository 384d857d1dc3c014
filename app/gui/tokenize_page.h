#pragma once
// Tokenization view: type a text (and an optional second sentence) and see its WordPiece tokens as chips and as a
// table. Hovering a token highlights the characters it came from; hovering the text highlights its token.
#include "task_page.h"

class QCheckBox;
class QLabel;
class QPlainTextEdit;
class QScrollArea;
class QSplitter;
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
  // The strip's pane shows whole rows of chips (a row cut through its ids reads as garbage): all of them if they
  // take no more than 40% of the results, else as many whole rows as fit there, the rest a scroll away. Left alone
  // once the user has moved the splitter.
  void fitStrip();
  void resizeEvent(QResizeEvent* event) override;
  void highlightToken(int token);
  int tokenAtTextPosition(int sequence, int utf16_position) const;
  bool eventFilter(QObject* watched, QEvent* event) override;

  QPlainTextEdit* text_;
  QPlainTextEdit* pair_;
  QCheckBox* showIds_;
  QLabel* summary_;
  TokenStrip* strip_;
  QScrollArea* stripScroll_;
  QSplitter* splitter_;
  bool splitterMoved_ = false;  // by the user: fitStrip leaves it
  QTableView* table_;
  TokenTableModel* model_;
  QString requestedText_, requestedPair_;  // what the shown encoding's offsets point into
  QString shownText_, shownPair_;
};

}  // namespace bertscope::gui
