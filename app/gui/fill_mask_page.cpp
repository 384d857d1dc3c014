#include "fill_mask_page.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include "item_models.h"
#include "page_support.h"
#include "token_strip.h"

namespace bertscope::gui {

QString sampleSentence(const QString& mask) { return QStringLiteral("The %1 sat on the mat.").arg(mask); }

FillMaskPage::FillMaskPage(EngineClient* engine, QWidget* parent) : QWidget(parent), engine_(engine) {
  text_ = new QLineEdit(this);
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
  hint_ = new QLabel(this);
  hint_->setTextFormat(Qt::PlainText);  // it names <mask>
  hint_->setStyleSheet(QStringLiteral("color: #555;"));
  showMaskHints();
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(input);
  layout->addWidget(hint_);
  layout->addWidget(message_);
  layout->addWidget(strip_);
  layout->addWidget(table_, 1);

  debounce_ = make_debounce(this, 150, [this] { refresh(); });
  connect(text_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(topK_, &QSpinBox::valueChanged, this, [this] { refresh(); });
  connect(strip_, &TokenStrip::tokenClicked, this, &FillMaskPage::maskToken);
  connect(table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    const QVariantList payload = index.data(Qt::UserRole).toList();
    if (payload.size() == 2) applyPrediction(payload[0].toInt(), payload[1].toInt());
  });
  connect(engine_, &EngineClient::filled, this, [this](quint64 id, Ptr<FillMaskReply> result) {
    if (id != latest_) return;
    message_->clearMessage();
    shownText_ = requestedText_;
    shown_ = result;
    showResult(*result);
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job != Job::FillMask || id != latest_) return;
    predictions_->clear();
    message_->showError(error);  // the engine's messages name this model's own mask token
  });
}

void FillMaskPage::setModel(const Ptr<LoadedModel>& model) {
  usable_ = model && model->mlm;
  text_->setEnabled(usable_);
  topK_->setEnabled(usable_);
  predictions_->clear();
  strip_->setEncoding({});
  shown_.reset();
  const QString previous = mask_;
  if (model && !model->mask_token.isEmpty()) mask_ = model->mask_token;
  showMaskHints();
  // The sample sentence, or one typed for another family's model, asks with this model's mask token.
  if (previous != mask_) {
    const QSignalBlocker blocker(text_);
    text_->setText(text_->text().replace(previous, mask_));
  }
  if (!model) return;
  if (!usable_) {
    message_->showNotice(tr("This model has no masked-language-model head (it is a %1), so it cannot predict "
                            "masked words. Load a model with a masked-LM head, e.g. BertForMaskedLM or RobertaForMaskedLM.")
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
    message_->showNotice(tr("Type a sentence with %1 in it, e.g. \"%2\"").arg(mask_, sampleSentence(mask_)));
    return;
  }
  latest_ = engine_->fillMask(requestedText_, topK_->value());
}

void FillMaskPage::showMaskHints() {
  text_->setPlaceholderText(tr("A sentence with %1 where a word should be predicted").arg(mask_));
  hint_->setText(tr("Type %1 for the words to predict, or click a word below to mask it.").arg(mask_));
}

void FillMaskPage::showResult(const FillMaskReply& reply) {
  const FillMaskResult& result = reply.result;
  strip_->setEncoding(result.encoding, reply.continues);
  QVector<QVector<QVariant>> rows;
  QVector<QVariant> payloads;
  for (size_t m = 0; m < result.predictions.size(); ++m) {
    size_t rank = 0;
    for (const MaskPrediction& p : result.predictions[m]) {
      const QString word = QString::fromStdString(p.token_str);
      rows.push_back({result.predictions.size() > 1 ? tr("mask %1").arg(m + 1) : mask_, word, p.score,
                      QString::fromStdString(p.sequence)});
      payloads.push_back(QVariantList{int(m), int(rank)});
      ++rank;
    }
  }
  predictions_->setRows(rows, payloads);
  table_->resizeColumnToContents(0);
  table_->resizeColumnToContents(1);
  table_->setColumnWidth(2, 180);
}

void FillMaskPage::maskToken(int token) {
  if (!shown_ || text_->text() != shownText_ || token < 0 || token >= int(shown_->result.encoding.size())) return;
  const Encoding& encoding = shown_->result.encoding;
  const Token& clicked = encoding.tokens[size_t(token)];
  if (clicked.special || clicked.sequence != 0) return;
  // The whole word: every piece with the same word index.
  int start = clicked.start, end = clicked.end;
  for (const Token& t : encoding.tokens)
    if (t.sequence == 0 && t.word == clicked.word) start = std::min(start, t.start), end = std::max(end, t.end);
  Token word = clicked;
  word.start = start;
  word.end = end;
  const auto [from, to] = token_range(shownText_, word);
  QString text = shownText_;
  text.replace(from, to - from, mask_);
  setText(text);
}

void FillMaskPage::applyPrediction(int mask, int rank) {
  if (!shown_ || text_->text() != shownText_ || mask < 0 || mask >= int(shown_->words.size())) return;
  const auto& words = shown_->words[size_t(mask)];
  if (rank < 0 || rank >= int(words.size())) return;
  const PredictedWord& word = words[size_t(rank)];
  const Token& masked = shown_->result.encoding.tokens[size_t(shown_->result.mask_positions[size_t(mask)])];
  auto [from, to] = token_range(shownText_, masked);
  QString text = shownText_;
  // RoBERTa's <mask> takes the space before it: keep that space unless the prediction joins the word before.
  while (from < to && text.at(from).isSpace()) ++from;
  if (word.joins)
    while (from > 0 && text.at(from - 1).isSpace()) --from;
  text.replace(from, to - from, word.text);
  setText(text);
}

}  // namespace bertscope::gui
