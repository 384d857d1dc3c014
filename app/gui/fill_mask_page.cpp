#include "fill_mask_page.h"

#include <QApplication>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QPainter>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTextDocument>
#include <QVBoxLayout>

#include "head_ablation.h"
#include "item_models.h"
#include "model_compare.h"
#include "page_support.h"
#include "saliency_panel.h"
#include "token_strip.h"
#include "training_job.h"

namespace bertscope::gui {

QString sampleSentence(const QString& mask) { return QStringLiteral("The %1 sat on the mat.").arg(mask); }

namespace {
// A table's column titles, to set new ones only when they change (setting them clears the rows).
QStringList header_texts(const ResultTableModel* table) {
  QStringList texts;
  for (int c = 0; c < table->columnCount(); ++c) texts << table->headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
  return texts;
}

// The Sentence column: the sentence with the inserted word in bold on a yellow ground (the other masks stay as
// typed). The range comes from the page, per row.
class InsertedWordDelegate : public QStyledItemDelegate {
 public:
  InsertedWordDelegate(std::function<std::pair<int, int>(int row)> range, QObject* parent)
      : QStyledItemDelegate(parent), range_(std::move(range)) {}

  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
    QStyleOptionViewItem background = option;
    initStyleOption(&background, index);
    const QString text = background.text;
    background.text.clear();
    QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &background, painter);
    const auto [from, to] = range_(index.row());
    const QRect area = option.rect.adjusted(4, 0, -4, 0);
    // A narrow column (compare mode) cuts the sentence around the word with "…"; the tooltip has it whole.
    QFont bold = option.font;
    bold.setBold(true);
    const ElidedAround shown = elide_around(text, from, to, QFontMetrics(option.font), QFontMetrics(bold), area.width() - 2);
    QTextDocument doc;
    doc.setDefaultFont(option.font);
    doc.setDocumentMargin(0);
    doc.setHtml(shown.text.left(shown.from).toHtmlEscaped() +
                QStringLiteral("<span style=\"font-weight:bold; background-color:#ffe08a;\">%1</span>").arg(shown.text.mid(shown.from, shown.to - shown.from).toHtmlEscaped()) +
                shown.text.mid(shown.to).toHtmlEscaped());
    painter->save();
    painter->setClipRect(area);
    painter->translate(area.left(), area.top() + (area.height() - doc.size().height()) / 2);
    doc.drawContents(painter);
    painter->restore();
  }

 private:
  std::function<std::pair<int, int>(int)> range_;
};
}  // namespace

FillMaskPage::FillMaskPage(EngineClient* engine, QWidget* parent) : TaskPage(engine, Job::FillMask, 150, parent) {
  text_ = new QLineEdit(this);
  text_->setClearButtonEnabled(true);
  topK_ = new QSpinBox(this);
  topK_->setRange(1, 50);
  topK_->setValue(5);
  topK_->setPrefix(tr("top "));
  strip_ = new TokenStrip(this);
  strip_->setShowIds(false);
  strip_->setClickable(true);
  predictions_ = new ResultTableModel({tr("Mask"), tr("Word"), tr("Probability"), tr("Sentence")}, 2, this);
  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("predictionsTable"));
  table_->setModel(predictions_);
  table_->setItemDelegateForColumn(2, new ProbabilityDelegate(table_));
  table_->setItemDelegateForColumn(3, new InsertedWordDelegate([this](int row) { return insertedRange(row); }, table_));
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setToolTip(tr("Click a prediction to put it into the sentence (with saliency on: click to explain it, "
                        "double-click to put it in)"));

  auto* input = new QHBoxLayout;
  input->addWidget(text_, 1);
  input->addWidget(topK_);
  hint_ = new QLabel(this);
  hint_->setTextFormat(Qt::PlainText);  // it names <mask>
  hint_->setStyleSheet(QStringLiteral("color: #555;"));
  showMaskHints();
  auto* results = new QWidget(this);
  auto* shown = new QVBoxLayout(results);
  shown->setContentsMargins(0, 0, 0, 0);
  shown->addWidget(strip_);
  shown->addWidget(table_, 1);
  // Before and after adapting to the user's text: only once the Fine-tune view has such a model.
  adaptedBox_ = new QWidget(results);
  adaptedBox_->setObjectName(QStringLiteral("adaptedComparison"));
  adaptedNote_ = new QLabel(adaptedBox_);
  adaptedNote_->setWordWrap(true);
  adapted_ = new ResultTableModel({tr("Mask"), tr("Adapted model"), tr("Probability"), tr("Before adapting"), tr("Probability")},
                                  QList<int>{2, 4}, this);
  auto* adaptedTable = new QTableView(adaptedBox_);
  adaptedTable->setModel(adapted_);
  adaptedTable->setItemDelegateForColumn(2, new ProbabilityDelegate(adaptedTable));
  adaptedTable->setItemDelegateForColumn(4, new ProbabilityDelegate(adaptedTable));
  adaptedTable->verticalHeader()->hide();
  adaptedTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  adaptedTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  auto* adaptedLayout = new QVBoxLayout(adaptedBox_);
  adaptedLayout->setContentsMargins(0, 0, 0, 0);
  adaptedLayout->addWidget(adaptedNote_);
  adaptedLayout->addWidget(adaptedTable, 1);
  adaptedBox_->hide();
  shown->addWidget(adaptedBox_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(input);
  layout->addWidget(hint_);
  layout->addWidget(message());
  // The banners above the saliency panel, so that its heat strip stays next to the token strip it colours.
  ablationBanner_ = new AblationBanner(engine, this);
  layout->addWidget(ablationBanner_);
  compareBanner_ = new CompareBanner(engine, Job::FillMask, this);
  layout->addWidget(compareBanner_);
  layout->addWidget(addSaliency(ExplainTask::FillMask));
  layout->addWidget(wrapResults(results), 1);
  connect(engine, &EngineClient::headMaskChanged, this, [this] { refresh(); });  // answer with the heads now off
  connect(engine, &EngineClient::compareChanged, this, [this] { refresh(); });   // model B answers too, or no more

  connect(text_, &QLineEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(text_, &QLineEdit::textChanged, this, [this](const QString& text) {
    trackEdit(lastText_, text);
    lastText_ = text;
  });
  connect(topK_, &QSpinBox::valueChanged, this, [this] { refresh(); });
  connect(strip_, &TokenStrip::tokenClicked, this, &FillMaskPage::maskToken);
  connect(table_, &QTableView::clicked, this, [this](const QModelIndex& index) {
    const QVariantList payload = index.data(Qt::UserRole).toList();
    if (payload.size() != 2) return;
    if (saliency()->method() == SaliencyPanel::Off) applyPrediction(payload[0].toInt(), payload[1].toInt());
    else explainPrediction(payload[0].toInt(), payload[1].toInt());  // a click chooses what to explain
  });
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    const QVariantList payload = index.data(Qt::UserRole).toList();
    if (payload.size() == 2 && saliency()->method() != SaliencyPanel::Off) applyPrediction(payload[0].toInt(), payload[1].toInt());
  });
  onReply(&EngineClient::filled, [this](const Ptr<FillMaskReply>& result) {
    // A problem (no mask, NaN outputs) still comes with this text's tokens: the chips never show an older text.
    if (!result->problem.isEmpty())
      message()->showError(result->problem);  // the engine's messages name this model's own mask token
    else if (const Encoding& e = result->result.encoding; e.truncated_tokens > 0)
      message()->showNotice(tr("The text is longer than this model reads; left out at its end: %1. A mask there is "
                               "not predicted.").arg(truncated_text(e)));
    else
      message()->clearMessage();
    shownText_ = requestedText_;
    shown_ = result;
    showResult(*result);
  });
}

void FillMaskPage::showFailure(const QString& error) {
  predictions_->clear();
  strip_->setEncoding({});  // no tokens for this text: show none rather than an older text's
  shown_.reset();
  message()->showError(error);
}

void FillMaskPage::setModel(const Ptr<LoadedModel>& model) {
  usable_ = model && model->mlm;
  text_->setEnabled(usable_);
  topK_->setEnabled(usable_);
  predictions_->clear();
  strip_->setEncoding({});
  shown_.reset();
  masked_.clear();
  const QString previous = mask_;
  if (model && !model->mask_token.isEmpty()) mask_ = model->mask_token;
  showMaskHints();
  // The sample sentence, or one typed for another family's model, asks with this model's mask token.
  if (previous != mask_) {
    const QSignalBlocker blocker(text_);
    text_->setText(text_->text().replace(previous, mask_));
    lastText_ = text_->text();
  }
  if (!model) return;
  if (!usable_) {
    dropRequests();
    message()->showNotice(tr("This model has no masked-language-model head (it is a %1), so it cannot predict "
                            "masked words. Load a model with a masked-LM head, e.g. BertForMaskedLM or RobertaForMaskedLM.")
                             .arg(QString::fromStdString(model->info.architecture)));
    return;
  }
  message()->clearMessage();
  refresh();
}

void FillMaskPage::setText(const QString& text) {
  text_->setText(text);
  refresh();
}

QString FillMaskPage::text() const { return text_->text(); }

void FillMaskPage::refresh() {
  cancelScheduledRefresh();
  if (!usable_) return;
  requestedText_ = text_->text();
  if (requestedText_.trimmed().isEmpty()) {
    dropRequests();  // drop anything in flight
    predictions_->clear();
    strip_->setEncoding({});
    message()->showNotice(tr("Type a sentence with %1 in it, e.g. \"%2\"").arg(mask_, sampleSentence(mask_)));
    return;
  }
  track(engine()->fillMask(requestedText_, topK_->value()));
  askAdapted();
  saliency()->explain({ExplainTask::FillMask, requestedText_});  // the first mask's top word until one is clicked
}

void FillMaskPage::showAdaptationOf(TrainingJob* job) {
  adaptation_ = job;
  connect(job, &TrainingJob::started, this, [this] {  // the adapted model is being replaced
    adaptedBox_->hide();
    adapted_->clear();
  });
  connect(job, &TrainingJob::finished, this, [this] {
    const bool adapted = adaptation_ && adaptation_->hasModel() && adaptation_->task() == FineTuneTask::MaskedLanguageModel;
    adaptedBox_->setVisible(adapted);
    if (adapted) askAdapted();
  });
  connect(job, &TrainingJob::triedMask, this, [this](quint64 id, const MaskGuesses& after, const MaskGuesses& before) {
    if (id == adaptedId_) showAdapted(after, before);
  });
}

void FillMaskPage::askAdapted() {
  if (!adaptation_ || !adaptation_->hasModel() || adaptation_->task() != FineTuneTask::MaskedLanguageModel) return;
  if (text_->text().trimmed().isEmpty()) return adapted_->clear();
  adaptation_->tryMask(++adaptedId_, text_->text(), topK_->value());
}

void FillMaskPage::showAdapted(const MaskGuesses& after, const MaskGuesses& before) {
  QVector<QVector<QVariant>> rows;
  for (int m = 0; m < after.words.size() && m < before.words.size(); ++m) {
    const int ranks = int(std::max(after.words[m].size(), before.words[m].size()));
    for (int r = 0; r < ranks; ++r)
      rows.push_back({after.words.size() > 1 ? tr("mask %1").arg(m + 1) : mask_, after.words[m].value(r),
                      after.scores[m].value(r), before.words[m].value(r), before.scores[m].value(r)});
  }
  const QString problem = !after.problem.isEmpty() ? after.problem : before.problem;
  // Named in the headers and the note: while comparing, the table above is A beside B, this one another pair.
  const QString run = QFileInfo(adaptation_->runFolder()).fileName(), start = QFileInfo(adaptation_->startModel()).fileName();
  const QStringList headers{tr("Mask"), tr("Adapted (%1): word").arg(run), tr("Probability"),
                            tr("Before (%1): word").arg(start), tr("Probability")};
  if (headers != header_texts(adapted_)) adapted_->setHeaders(headers);
  adapted_->setRows(rows);
  const QString title = engine()->comparing()
                            ? tr("Not A beside B: the model adapted to your text in %1 (Fine-tune view) beside %2, the "
                                 "model it started from").arg(run, start)
                            : tr("The model adapted to your text in %1 (Fine-tune view) beside %2, the model it "
                                 "started from").arg(run, start);
  adaptedNote_->setText(problem.isEmpty() ? title + QLatin1Char(':') : title + QStringLiteral(": ") + problem);
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
  inserted_.clear();
  for (size_t m = 0; m < result.predictions.size(); ++m) {
    size_t rank = 0;
    for (const MaskPrediction& p : result.predictions[m]) {
      // The sentence as typed with this word in place of this mask; other masks stay masks.
      const Filled sentence = filled(int(m), int(rank));
      rows.push_back({result.predictions.size() > 1 ? tr("mask %1").arg(m + 1) : mask_,
                      QString::fromStdString(p.token_str), p.score, sentence.text});
      inserted_.emplace_back(sentence.from, sentence.to);
      payloads.push_back(QVariantList{int(m), int(rank)});
      ++rank;
    }
  }
  // With heads switched off: each word's change against the full model, and a changed top word flagged.
  // The Word column names its model: another model's words (model B, the adapted model's table) may show beside it.
  const QString name = engine()->model() ? model_name(*engine()->model()) : QString();
  const QString word = name.isEmpty() ? tr("Word") : engine()->comparing() ? tr("A (%1): word").arg(name) : tr("%1: word").arg(name);
  QStringList headers{tr("Mask"), word, tr("Probability"), tr("Sentence")};
  const Ablation* ablation = engine()->ablation(Job::FillMask, latestRequest());
  const Comparison comparison = ablation ? compare_fill_mask(reply, *ablation->full) : Comparison{};
  add_change_column(headers, rows, ablation ? &comparison : nullptr);
  ablationBanner_->showReply(ablation, {comparison.topChange});
  // While comparing: model B's probability of each word and its change from A's (when their tokens line up).
  const ModelBAnswer* b = engine()->comparison(Job::FillMask, latestRequest());
  const bool lined_up = b && b->aligned && b->problem.isEmpty();
  const ModelBColumns columnsB = lined_up ? compare_fill_mask_b(reply, *b) : ModelBColumns{};
  add_model_b_columns(headers, rows, lined_up ? &columnsB : nullptr, predictions_);
  compareBanner_->showReply(b, {columnsB.topChange});
  if (headers != header_texts(predictions_)) predictions_->setHeaders(headers);  // 4, +1, +2 columns; model names
  predictions_->setRows(rows, payloads);
  table_->setColumnHidden(0, result.predictions.size() < 2);  // "mask 1", "mask 2": only needed with two or more
  table_->resizeColumnToContents(0);
  table_->resizeColumnToContents(1);
  table_->setColumnWidth(2, lined_up ? 140 : 180);
  if (ablation || lined_up) table_->setColumnWidth(3, 320);  // the change columns take the rest
  fit_model_b_columns(table_, int(headers.size()) - 2, lined_up);
  emit answerShown();
}

std::pair<int, int> FillMaskPage::insertedRange(int row) const {
  return row >= 0 && row < int(inserted_.size()) ? inserted_[size_t(row)] : std::pair<int, int>{0, 0};
}

FillMaskPage::Filled FillMaskPage::filled(int mask, int rank) const {
  const auto& words = shown_->words[size_t(mask)];
  const PredictedWord& word = words[size_t(rank)];
  const Token& masked = shown_->result.encoding.tokens[size_t(shown_->result.mask_positions[size_t(mask)])];
  auto [from, to] = token_range(shownText_, masked);
  Filled out{shownText_};
  // RoBERTa's <mask> takes the space before it: keep that space unless the prediction joins the word before.
  while (from < to && out.text.at(from).isSpace()) ++from;
  if (word.joins)
    while (from > 0 && out.text.at(from - 1).isSpace()) --from;
  out.text.replace(from, to - from, word.text);
  out.from = from;
  out.to = from + int(word.text.size());
  return out;
}

void FillMaskPage::trackEdit(const QString& before, const QString& after) {
  if (masked_.empty()) return;
  // The edit changed [prefix, before.size() - suffix) of `before`; masks after it move, masks in it are gone.
  const int shorter = int(std::min(before.size(), after.size()));
  int prefix = 0, suffix = 0;
  while (prefix < shorter && before.at(prefix) == after.at(prefix)) ++prefix;
  while (suffix < shorter - prefix && before.at(before.size() - 1 - suffix) == after.at(after.size() - 1 - suffix)) ++suffix;
  const int changedEnd = int(before.size()) - suffix, shift = int(after.size() - before.size());
  std::vector<MaskedWord> kept;
  for (MaskedWord m : masked_) {
    if (m.at + mask_.size() <= prefix) kept.push_back(m);
    else if (m.at >= changedEnd) kept.push_back({m.at + shift, m.word});
  }
  masked_ = std::move(kept);
}

void FillMaskPage::maskToken(int token) {
  if (!shown_ || text_->text() != shownText_ || token < 0 || token >= int(shown_->result.encoding.size())) return;
  const Encoding& encoding = shown_->result.encoding;
  const Token& clicked = encoding.tokens[size_t(token)];
  if (clicked.sequence != 0) return;
  if (QString::fromStdString(clicked.text).trimmed() == mask_) {  // a mask: put back the word it replaced, if known
    auto [from, to] = token_range(shownText_, clicked);
    while (from < to && shownText_.at(from).isSpace()) ++from;  // <mask>'s offsets may hold the space before it
    for (const MaskedWord& m : masked_)
      if (m.at == from && shownText_.mid(from, mask_.size()) == mask_) {
        QString text = shownText_;
        text.replace(from, int(mask_.size()), m.word);
        setText(text);  // trackEdit forgets this mask
        return;
      }
    return;  // a mask the user typed: there is no word to put back
  }
  if (clicked.special) return;
  // The whole word: every piece with the same word index.
  int start = clicked.start, end = clicked.end;
  for (const Token& t : encoding.tokens)
    if (t.sequence == 0 && t.word == clicked.word) start = std::min(start, t.start), end = std::max(end, t.end);
  Token word = clicked;
  word.start = start;
  word.end = end;
  const auto [from, to] = token_range(shownText_, word);
  QString text = shownText_;
  const QString original = text.mid(from, to - from);
  text.replace(from, to - from, mask_);
  setText(text);
  masked_.push_back({from, original});  // after setText: its edit must not move this entry
}

void FillMaskPage::applyPrediction(int mask, int rank) {
  if (!shown_ || text_->text() != shownText_ || mask < 0 || mask >= int(shown_->words.size())) return;
  if (rank < 0 || rank >= int(shown_->words[size_t(mask)].size())) return;
  setText(filled(mask, rank).text);
}

void FillMaskPage::explainPrediction(int mask, int rank) {
  if (!shown_ || text_->text() != shownText_ || mask < 0 || mask >= int(shown_->result.predictions.size())) return;
  if (rank < 0 || rank >= int(shown_->result.predictions[size_t(mask)].size())) return;
  saliency()->setTarget(shown_->result.mask_positions[size_t(mask)], shown_->result.predictions[size_t(mask)][size_t(rank)].token);
}

}  // namespace bertscope::gui
