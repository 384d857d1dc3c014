#include "classify_page.h"

#include <QGroupBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QTableView>
#include <QVBoxLayout>

#include "item_models.h"
#include "page_support.h"

namespace bertscope::gui {

namespace {
QTableView* bar_table(ResultTableModel* model, QWidget* parent) {
  auto* table = new QTableView(parent);
  table->setModel(model);
  table->setItemDelegateForColumn(1, new ProbabilityDelegate(table));
  table->verticalHeader()->hide();
  table->horizontalHeader()->setStretchLastSection(true);
  table->setSelectionMode(QAbstractItemView::NoSelection);
  return table;
}
}  // namespace

ClassifyPage::ClassifyPage(EngineClient* engine, QWidget* parent) : TaskPage(engine, Job::Classify, 250, parent) {
  text_ = make_text_editor(tr("A sentence to classify"), 3, this);
  pair_ = new QLineEdit(this);
  pair_->setPlaceholderText(tr("Optional second sentence (sentence pairs; needed for next-sentence prediction)"));
  labels_ = new ResultTableModel({tr("Label"), tr("Probability")}, 1, this);
  nsp_ = new ResultTableModel({tr("Relation"), tr("Probability")}, 1, this);
  labelTable_ = bar_table(labels_, this);
  nspTable_ = bar_table(nsp_, this);
  auto* label_box = new QGroupBox(tr("Sequence classification"), this);
  (new QVBoxLayout(label_box))->addWidget(labelTable_);
  auto* nsp_box = new QGroupBox(tr("Next-sentence prediction"), this);
  (new QVBoxLayout(nsp_box))->addWidget(nspTable_);

  auto* results = new QWidget(this);
  auto* boxes = new QVBoxLayout(results);
  boxes->setContentsMargins(0, 0, 0, 0);
  boxes->addWidget(label_box, 1);
  boxes->addWidget(nsp_box, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message());
  layout->addWidget(text_);
  layout->addWidget(pair_);
  layout->addWidget(wrapResults(results), 2);
  layout->addStretch(0);

  connect(text_, &QPlainTextEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(pair_, &QLineEdit::textChanged, this, &TaskPage::scheduleRefresh);
  onReply(&EngineClient::classified, [this](const Ptr<ClassifyReply>& reply) {
    message()->clearMessage();
    QVector<QVector<QVariant>> rows;
    if (reply->classification)
      for (const LabelScore& s : reply->classification->scores) rows.push_back({QString::fromStdString(s.label), s.score});
    labels_->setRows(rows);
    rows.clear();
    if (reply->nsp) rows = {{tr("B follows A (IsNext)"), reply->nsp->is_next}, {tr("B is random (NotNext)"), 1.0 - reply->nsp->is_next}};
    nsp_->setRows(rows);
    if (model_ && model_->nsp && !reply->nsp) message()->showNotice(tr("Add a second sentence to see next-sentence prediction."));
    labelTable_->resizeColumnToContents(0);
    nspTable_->resizeColumnToContents(0);
  });
}

void ClassifyPage::setModel(const Ptr<LoadedModel>& model) {
  model_ = model;
  labels_->clear();
  nsp_->clear();
  labelTable_->parentWidget()->setVisible(!model || model->classifier);
  nspTable_->parentWidget()->setVisible(!model || model->nsp);
  if (!model) return;
  if (!model->classifier && !model->nsp) {
    dropRequests();
    message()->showNotice(tr("This model has neither a classification head nor a next-sentence head (it is a %1). "
                            "Load a BertForSequenceClassification checkpoint, or fine-tune one from a CSV.")
                             .arg(QString::fromStdString(model->info.architecture)));
    return;
  }
  message()->clearMessage();
  refresh();
}

void ClassifyPage::setText(const QString& text, const QString& pair) {
  text_->setPlainText(text);
  pair_->setText(pair);
  refresh();
}

QString ClassifyPage::pairText() const { return pair_->text(); }

void ClassifyPage::refresh() {
  cancelScheduledRefresh();
  if (!model_ || (!model_->classifier && !model_->nsp)) return;
  if (text_->toPlainText().trimmed().isEmpty()) {
    dropRequests();
    labels_->clear();
    nsp_->clear();
    message()->showNotice(tr("Type a sentence to classify."));
    return;
  }
  track(engine()->classify(text_->toPlainText(), pair_->text()));
}

}  // namespace bertscope::gui
