#include "tokenize_page.h"

#include <algorithm>
#include <set>

#include <QCheckBox>
#include <QHeaderView>
#include <QLabel>
#include <QMouseEvent>
#include <QPlainTextEdit>
#include <QScrollArea>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "item_models.h"
#include "page_support.h"
#include "text_spans.h"
#include "token_strip.h"

namespace bertscope::gui {

namespace {
const QColor kSpanColor(255, 200, 90);
}

TokenizePage::TokenizePage(EngineClient* engine, QWidget* parent) : TaskPage(engine, Job::Tokenize, 120, parent) {
  text_ = make_text_editor(tr("Type a text to see its tokens"), 3, this);
  pair_ = make_text_editor(tr("Optional second sentence (for sentence-pair models)"), 1, this);
  showIds_ = new QCheckBox(tr("Show ids"), this);
  showIds_->setChecked(true);
  summary_ = new QLabel(this);
  strip_ = new TokenStrip(this);
  auto* strip_scroll = stripScroll_ = new QScrollArea(this);
  strip_scroll->setWidget(strip_);
  strip_scroll->setWidgetResizable(true);
  strip_scroll->setFrameShape(QFrame::NoFrame);
  model_ = new TokenTableModel(this);
  table_ = new QTableView(this);
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setMouseTracking(true);

  auto* splitter = splitter_ = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(strip_scroll);
  splitter->addWidget(table_);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 2);
  connect(splitter, &QSplitter::splitterMoved, this, [this] { splitterMoved_ = true; });

  auto* options = new QHBoxLayout;
  options->addWidget(summary_, 1);
  options->addWidget(showIds_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(text_);
  layout->addWidget(pair_);
  layout->addLayout(options);
  layout->addWidget(message());
  layout->addWidget(wrapResults(splitter), 1);

  connect(text_, &QPlainTextEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(pair_, &QPlainTextEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(showIds_, &QCheckBox::toggled, this, [this](bool show) {
    strip_->setShowIds(show);
    fitStrip();
  });
  connect(strip_, &TokenStrip::tokenHovered, this, &TokenizePage::highlightToken);
  connect(table_, &QTableView::entered, this, [this](const QModelIndex& index) { highlightToken(index.row()); });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) { highlightToken(current.row()); });
  onReply(&EngineClient::tokenized, [this](const Ptr<ShownEncoding>& encoding) {
    shownText_ = requestedText_;
    shownPair_ = requestedPair_;
    message()->clearMessage();
    showEncoding(*encoding);
  });
  text_->viewport()->installEventFilter(this);
  text_->viewport()->setMouseTracking(true);
  pair_->viewport()->installEventFilter(this);
  pair_->viewport()->setMouseTracking(true);
}

void TokenizePage::setText(const QString& text, const QString& pair) {
  text_->setPlainText(text);
  pair_->setPlainText(pair);
  refresh();
}

void TokenizePage::refresh() {
  cancelScheduledRefresh();
  if (!engine()->model()) return;
  requestedText_ = text_->toPlainText();
  requestedPair_ = pair_->toPlainText();
  track(engine()->tokenize(requestedText_, requestedPair_));
}

QString TokenizePage::summary() const { return summary_->text(); }

void TokenizePage::fitStrip() {
  const int total = splitter_->height() - splitter_->handleWidth();
  if (splitterMoved_ || total <= 0) return;
  const int pitch = strip_->rowPitch();
  const int all = strip_->heightForWidth(stripScroll_->viewport()->width());
  const int whole_rows = std::max(1, total * 2 / 5 / pitch);  // rows that fit in 40% of the results, at least one
  // All the chips (at least a row's height, so the pane does not vanish), or whole rows of them.
  const int pane = all <= whole_rows * pitch ? std::max(all, pitch) : whole_rows * pitch;
  splitter_->setSizes({pane, total - pane});
}

void TokenizePage::resizeEvent(QResizeEvent* event) {
  TaskPage::resizeEvent(event);
  fitStrip();
}

void TokenizePage::showEncoding(const ShownEncoding& shown) {
  const Encoding& encoding = shown.encoding;
  model_->setEncoding(shown, shownText_, shownPair_);
  strip_->setEncoding(encoding, shown.continues);
  fitStrip();
  // DistilBERT and RoBERTa take no token type ids: no Type column for them.
  const bool types = !engine()->model() || engine()->model()->token_types;
  table_->setColumnHidden(TokenTableModel::TypeId, !types);
  strip_->setShowTypes(types);
  // Every column but the last (Notes) fits its contents; resizing the last as well would stop it filling the table.
  for (int column = 0; column + 1 < model_->columnCount(); ++column) table_->resizeColumnToContents(column);
  // Words as the Word column numbers them (Hugging Face's word_ids: BERT's basic-tokenizer words, RoBERTa's
  // pre-tokenizer pieces, so "don't" is two words there even though "'t" continues without a space).
  int unknown = 0, words = 0, pieces = 0;
  std::set<std::pair<int, int>> seen;  // (sequence, word)
  for (size_t i = 0; i < encoding.size(); ++i) {
    const Token& t = encoding.tokens[i];
    unknown += t.unknown;
    if (t.word >= 0 && seen.insert({t.sequence, t.word}).second) ++words;
    if (model_->continuesWord(int(i))) ++pieces;
  }
  QString text = counted(qint64(encoding.size()), tr("token"), tr("tokens")) + tr(" · ") +
                 counted(words, tr("word"), tr("words")) + tr(" · ") +
                 counted(pieces, tr("continuation piece"), tr("continuation pieces"));
  if (unknown) text += tr(" · %1 unknown").arg(unknown);
  if (encoding.truncated_tokens) text += tr(" · %1 cut off past the model's maximum length").arg(truncated_text(encoding));
  summary_->setText(text);
}

void TokenizePage::highlightToken(int token) {
  strip_->setHighlighted(token);
  highlight_range(text_, 0, 0, kSpanColor);
  highlight_range(pair_, 0, 0, kSpanColor);
  const Encoding& encoding = model_->encoding();
  if (token < 0 || token >= int(encoding.size())) return;
  const Token& t = encoding.tokens[size_t(token)];
  if (t.sequence < 0) return;
  // Offsets point into the texts as they were tokenized; skip if the user has typed since.
  QPlainTextEdit* editor = t.sequence == 0 ? text_ : pair_;
  const QString& shown = t.sequence == 0 ? shownText_ : shownPair_;
  if (editor->toPlainText() != shown) return;
  const auto [from, to] = token_range(shown, t);
  highlight_range(editor, from, to, kSpanColor);
}

int TokenizePage::tokenAtTextPosition(int sequence, int utf16_position) const {
  const QString& shown = sequence == 0 ? shownText_ : shownPair_;
  const int cp = CodePointIndex(shown).codePoint(utf16_position);
  const Encoding& encoding = model_->encoding();
  for (size_t i = 0; i < encoding.size(); ++i) {
    const Token& t = encoding.tokens[i];
    if (t.sequence == sequence && t.start <= cp && cp < t.end) return int(i);
  }
  return -1;
}

bool TokenizePage::eventFilter(QObject* watched, QEvent* event) {
  const bool in_text = watched == text_->viewport(), in_pair = watched == pair_->viewport();
  if ((in_text || in_pair) && (event->type() == QEvent::MouseMove || event->type() == QEvent::Leave)) {
    QPlainTextEdit* editor = in_text ? text_ : pair_;
    int token = -1;
    if (event->type() == QEvent::MouseMove && editor->toPlainText() == (in_text ? shownText_ : shownPair_)) {
      const auto* mouse = static_cast<QMouseEvent*>(event);
      const QTextCursor cursor = editor->cursorForPosition(mouse->position().toPoint());
      // cursorForPosition gives the nearest gap; only count it when the mouse is over a character.
      const QRect caret = editor->cursorRect(cursor);
      if (std::abs(caret.center().y() - mouse->position().y()) <= caret.height())
        token = tokenAtTextPosition(in_text ? 0 : 1, std::max(0, cursor.position() - (caret.x() > mouse->position().x() ? 1 : 0)));
    }
    strip_->setHighlighted(token);
    if (token >= 0) {
      const auto [from, to] = token_range(in_text ? shownText_ : shownPair_, model_->encoding().tokens[size_t(token)]);
      highlight_range(editor, from, to, kSpanColor);
    } else {
      highlight_range(editor, 0, 0, kSpanColor);
    }
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace bertscope::gui
