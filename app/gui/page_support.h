#pragma once
// Small pieces every page uses: a message line for errors and notices, a debounce timer, and text helpers.
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTimer>
#include <functional>

class QToolButton;

#include "text/tokenizer.h"

namespace bertscope::gui {

// `message` starting with a capital: the engine's errors are lower-case so that they read inside longer ones
// ("could not open X: the text has no [MASK] token"), but shown alone they begin a sentence. A first word that is
// not a plain word (a file name, a model id) is left as it is.
QString as_sentence(const QString& message);

// A line under a page's inputs: red for errors, grey for notices, hidden when empty; each message as_sentence. A
// closable one has a ✕ button at its right that hides it.
class MessageLine : public QLabel {
  Q_OBJECT
 public:
  explicit MessageLine(QWidget* parent = nullptr);
  void showError(const QString& text);
  void showNotice(const QString& text);
  void clearMessage();
  bool isError() const { return error_; }
  void setClosable(bool closable);
  QToolButton* closeButton() const { return close_; }  // null unless closable

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  bool error_ = false;
  QToolButton* close_ = nullptr;
};

// A single-shot timer that restarts on every poke: runs `action` once typing pauses for `ms`.
QTimer* make_debounce(QObject* owner, int ms, std::function<void()> action);

// A plain-text editor sized for `lines` lines of text.
QPlainTextEdit* make_text_editor(const QString& placeholder, int lines, QWidget* parent = nullptr);

// A data file's row: its path, the button that chooses it, and an optional extra button (e.g. "Clear").
QHBoxLayout* make_file_row(QLineEdit* path, QPushButton* choose, QPushButton* extra = nullptr);

// The UTF-16 range [from, to) of `token` in `text` (the text its offsets point into).
std::pair<int, int> token_range(const QString& text, const Token& token);

// Highlights [from, to) in `editor` with `color` (an extra selection; the user's own selection is untouched).
void highlight_range(QPlainTextEdit* editor, int from, int to, const QColor& color);

// "1 file", "2 files", "4,023 words": the count in the locale's digits, the noun as English needs it. (Qt's "%n
// file(s)" plurals need a translation file to read well; the app ships none.)
QString counted(qint64 n, const QString& one, const QString& many);

// "1 token", "127 tokens", "at least 127 tokens": what truncation cut from `encoding`, for a message (at least: the
// tokenizer stopped reading a long text early, Encoding::truncated_at_least).
QString truncated_text(const Encoding& encoding);

// A question that does not block (open(), not exec(): the window stays alive and work goes on while it is up),
// named `name` (tests find it by that), with `safe` as the default button, deleted once closed. `answered` gets the
// button chosen. The caller keeps the box in a QPointer to know whether it is still asking.
QMessageBox* ask(QWidget* parent, QMessageBox::Icon icon, const QString& title, const QString& text,
                 QMessageBox::StandardButtons buttons, QMessageBox::StandardButton safe, const QString& name,
                 std::function<void(QMessageBox::StandardButton)> answered);

}  // namespace bertscope::gui
