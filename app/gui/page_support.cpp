#include "page_support.h"

#include <QLocale>

#include <QTextBlock>
#include <QToolButton>

#include "text_spans.h"

namespace bertscope::gui {

MessageLine::MessageLine(QWidget* parent) : QLabel(parent) {
  setWordWrap(true);
  setTextFormat(Qt::PlainText);  // messages name tokens such as <s> or <mask>, which are not markup
  setTextInteractionFlags(Qt::TextSelectableByMouse);
  hide();
}

QString as_sentence(const QString& message) {
  const qsizetype space = message.indexOf(QLatin1Char(' '));
  const QString first = message.left(space < 0 ? message.size() : space);
  if (first.isEmpty() || !first[0].isLower()) return message;
  for (QChar c : first)
    if (!c.isLetter() && c != QLatin1Char('\'')) return message;  // a file or model name ("reviews.csv:"), kept as is
  return first[0].toUpper() + message.mid(1);
}

void MessageLine::showError(const QString& text) {
  error_ = true;
  setStyleSheet(QStringLiteral("background: #fdecea; color: #b00020; padding: 6px; border-radius: 4px;"));
  setText(as_sentence(text));
  show();
}

void MessageLine::showNotice(const QString& text) {
  error_ = false;
  setStyleSheet(QStringLiteral("background: #eef3f8; color: #333; padding: 6px; border-radius: 4px;"));
  setText(as_sentence(text));
  show();
}

void MessageLine::clearMessage() {
  error_ = false;
  clear();
  hide();
}

void MessageLine::setClosable(bool closable) {
  if (closable == (close_ != nullptr)) return;
  if (!closable) {
    delete close_;
    close_ = nullptr;
    setContentsMargins(0, 0, 0, 0);
    return;
  }
  close_ = new QToolButton(this);
  close_->setObjectName(QStringLiteral("closeMessage"));
  close_->setText(QStringLiteral("✕"));
  close_->setAutoRaise(true);
  close_->setToolTip(tr("Dismiss this message"));
  close_->setCursor(Qt::ArrowCursor);
  close_->resize(close_->sizeHint());  // the label's text is selectable; the button is not text
  close_->setStyleSheet(QStringLiteral("QToolButton { background: transparent; color: #555; border: none; }"));
  connect(close_, &QToolButton::clicked, this, &MessageLine::clearMessage);
  setContentsMargins(0, 0, close_->sizeHint().width() + 4, 0);  // the text wraps before the button
}

void MessageLine::resizeEvent(QResizeEvent* event) {
  QLabel::resizeEvent(event);
  if (close_) close_->move(width() - close_->sizeHint().width() - 4, 4);
}

QTimer* make_debounce(QObject* owner, int ms, std::function<void()> action) {
  auto* timer = new QTimer(owner);
  timer->setSingleShot(true);
  timer->setInterval(ms);
  QObject::connect(timer, &QTimer::timeout, owner, std::move(action));
  return timer;
}

QPlainTextEdit* make_text_editor(const QString& placeholder, int lines, QWidget* parent) {
  auto* editor = new QPlainTextEdit(parent);
  editor->setPlaceholderText(placeholder);
  editor->setTabChangesFocus(true);
  const int line = editor->fontMetrics().lineSpacing();
  editor->setFixedHeight(line * lines + 2 * int(editor->document()->documentMargin()) + 6);
  return editor;
}

QHBoxLayout* make_file_row(QLineEdit* path, QPushButton* choose, QPushButton* extra) {
  auto* row = new QHBoxLayout;
  row->addWidget(path, 1);
  row->addWidget(choose);
  if (extra) row->addWidget(extra);
  return row;
}

std::pair<int, int> token_range(const QString& text, const Token& token) {
  const CodePointIndex index(text);
  return {index.utf16(token.start), index.utf16(token.end)};
}

void highlight_range(QPlainTextEdit* editor, int from, int to, const QColor& color) {
  QList<QTextEdit::ExtraSelection> selections;
  if (to > from) {
    QTextEdit::ExtraSelection selection;
    selection.cursor = QTextCursor(editor->document());
    selection.cursor.setPosition(from);
    selection.cursor.setPosition(to, QTextCursor::KeepAnchor);
    selection.format.setBackground(color);
    selections << selection;
  }
  editor->setExtraSelections(selections);
}

QString counted(qint64 n, const QString& one, const QString& many) {
  return QStringLiteral("%1 %2").arg(QLocale().toString(n), n == 1 ? one : many);
}

QString truncated_text(const Encoding& encoding) {
  const QString count = counted(encoding.truncated_tokens, QObject::tr("token"), QObject::tr("tokens"));
  return encoding.truncated_at_least ? QObject::tr("at least %1").arg(count) : count;
}

QMessageBox* ask(QWidget* parent, QMessageBox::Icon icon, const QString& title, const QString& text,
                 QMessageBox::StandardButtons buttons, QMessageBox::StandardButton safe, const QString& name,
                 std::function<void(QMessageBox::StandardButton)> answered) {
  auto* box = new QMessageBox(icon, title, text, buttons, parent);
  box->setObjectName(name);
  box->setDefaultButton(safe);
  box->setAttribute(Qt::WA_DeleteOnClose);
  QObject::connect(box, &QMessageBox::buttonClicked, parent, [box, answered = std::move(answered)](QAbstractButton* button) {
    answered(box->standardButton(button));
  });
  box->open();
  return box;
}

}  // namespace bertscope::gui
