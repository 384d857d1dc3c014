#include "fill_mask_page.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include "item_models.h"
#include "page_support.h"
#include "token_strip.h"

namespace bertscope::gui {

FillMaskPage::FillMaskPage(EngineClient* engine, QWidget* parent) : QWidget(parent), engine_(engine) {
  text_ = new QLineEdit(this);
  text_->setPlaceholderText(tr("A sentence with [MASK] where a word should be predicted"));
  text_->setClearButtonEnabled(true);
  topK_ = new QSpinBox(this);
  topK_->setRange(1, 50);
  topK_->setValue(5);
  topK_->setPrefix(tr("top "));
  message_ = new MessageLine(this);
  strip_ = new TokenStrip(this);
  strip_->setShowIds(false);
  strip_->setClickable(true);
  predictions_ = new ResultTableModel({tr("Mask"), tr("Word"), tr("Probability"), tr("Sentence")}, 2, this);
  table_ = new QTableView(this);
  table_->setModel(predictions_);
  table_->setItemDelegateForColumn(2, new ProbabilityDelegate(table_));
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setToolTip(tr("Click a prediction to put it into the sentence"));

  auto* input = new QHBoxLayout;
  input->addWidget(text_, 1);
  input->addWidget(topK_);
  auto* hint = new QLabel(tr("Type [MASK] for the words to predict, or click a word below to mask it."), this);
  hint->setStyleSheet(QStringLiteral("color: #555;"));
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(input);
  layout->addWidget(hint);
  layout->addWidget(message_);
  layout->addWidget(strip_);
  layout->addWidget(table_, 1);

  debounce_ = make_debounce(this, 150, [this] { refresh(); });
  connect(text_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(topK_, &QSpinBox::valueChanged, this, [this] { refresh(); });
  connect(strip_, &TokenStrip::tokenClicked, this, &FillMaskPage::maskToken);
  connect(table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    const QVariantList payload = index.data(Qt::UserRole).toList();
    if (payload.size() == 2) applyPrediction(payload[0].toInt(), payload[1].toString());
  });
  connect(engine_, &EngineClient::filled, this, [this](quint64 id, Ptr<FillMaskResult> result) {
    if (id != latest_) return;
    message_->clearMessage();
    shownText_ = requestedText_;
    shown_ = result;
    showResult(*result);
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job != Job::FillMask || id != latest_) return;
    predictions_->clear();
    message_->showError(error);
  });
}

void FillMaskPage::setModel(const Ptr<LoadedModel>& model) {
  usable_ = model && model->mlm;
  text_->setEnabled(usable_);
  topK_->setEnabled(usable_);
  predictions_->clear();
  strip_->setEncoding({});
  shown_.reset();
  if (!model) return;
  if (!usable_) {
    message_->showNotice(tr("This model has no masked-language-model head (it is a %1), so it cannot predict "
                            "masked words. Load a BertForMaskedLM or BertForPreTraining checkpoint.")
                             .arg(QString::fromStdString(model->info.architecture)));
    return;
  }
  message_->clearMessage();
  refresh();
}

void FillMaskPage::setText(const QString& text) {
  text_->setText(text);
  refresh();
}

QString FillMaskPage::text() const { return text_->text(); }

void FillMaskPage::refresh() {
  debounce_->stop();
  if (!usable_) return;
  requestedText_ = text_->text();
  if (requestedText_.trimmed().isEmpty()) {
    latest_ = 0;  // drop anything in flight
    predictions_->clear();
    strip_->setEncoding({});
    message_->showNotice(tr("Type a sentence with [MASK] in it, e.g. \"The [MASK] sat on the mat.\""));
    return;
  }
  latest_ = engine_->fillMask(requestedText_, topK_->value());
}

void FillMaskPage::showResult(const FillMaskResult& result) {
  strip_->setEncoding(result.encoding);
  QVector<QVector<QVariant>> rows;
  QVector<QVariant> payloads;
  for (size_t m = 0; m < result.predictions.size(); ++m) {
    for (const MaskPrediction& p : result.predictions[m]) {
      const QString word = QString::fromStdString(p.token_str);
      rows.push_back({result.predictions.size() > 1 ? tr("mask %1").arg(m + 1) : tr("[MASK]"), word, p.score,
                      QString::fromStdString(p.sequence)});
      payloads.push_back(QVariantList{int(m), word});
    }
  }
  predictions_->setRows(rows, payloads);
  table_->resizeColumnToContents(0);
  table_->resizeColumnToContents(1);
  table_->setColumnWidth(2, 180);
}

void FillMaskPage::maskToken(int token) {
  if (!shown_ || text_->text() != shownText_ || token < 0 || token >= int(shown_->encoding.size())) return;
  const Token& clicked = shown_->encoding.tokens[size_t(token)];
  if (clicked.special || clicked.sequence != 0) return;
  // The whole word: every piece with the same word index.
  int start = clicked.start, end = clicked.end;
  for (const Token& t : shown_->encoding.tokens)
    if (t.sequence == 0 && t.word == clicked.word) start = std::min(start, t.start), end = std::max(end, t.end);
  Token word = clicked;
  word.start = start;
  word.end = end;
  const auto [from, to] = token_range(shownText_, word);
  QString text = shownText_;
  text.replace(from, to - from, QStringLiteral("[MASK]"));
  setText(text);
}

void FillMaskPage::applyPrediction(int mask, const QString& word) {
  if (!shown_ || text_->text() != shownText_ || mask < 0 || mask >= int(shown_->mask_positions.size())) return;
  const Token& masked = shown_->encoding.tokens[size_t(shown_->mask_positions[size_t(mask)])];
  auto [from, to] = token_range(shownText_, masked);
  QString text = shownText_;
  QString insert = word;
  if (insert.startsWith(QStringLiteral("##"))) {  // a continuation piece joins the word before it
    insert = insert.mid(2);
    while (from > 0 && text.at(from - 1).isSpace()) --from;
  }
  text.replace(from, to - from, insert);
  setText(text);
}

}  // namespace bertscope::gui
