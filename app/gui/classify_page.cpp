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

ClassifyPage::ClassifyPage(EngineClient* engine, QWidget* parent) : QWidget(parent), engine_(engine) {
  text_ = make_text_editor(tr("A sentence to classify"), 3, this);
  pair_ = new QLineEdit(this);
  pair_->setPlaceholderText(tr("Optional second sentence (sentence pairs; needed for next-sentence prediction)"));
  message_ = new MessageLine(this);
  labels_ = new ResultTableModel({tr("Label"), tr("Probability")}, 1, this);
  nsp_ = new ResultTableModel({tr("Relation"), tr("Probability")}, 1, this);
  labelTable_ = bar_table(labels_, this);
  nspTable_ = bar_table(nsp_, this);
  auto* label_box = new QGroupBox(tr("Sequence classification"), this);
  (new QVBoxLayout(label_box))->addWidget(labelTable_);
  auto* nsp_box = new QGroupBox(tr("Next-sentence prediction"), this);
  (new QVBoxLayout(nsp_box))->addWidget(nspTable_);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(text_);
  layout->addWidget(pair_);
  layout->addWidget(label_box, 1);
  layout->addWidget(nsp_box, 1);
  layout->addStretch(0);

  debounce_ = make_debounce(this, 250, [this] { refresh(); });
  connect(text_, &QPlainTextEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(pair_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(engine_, &EngineClient::classified, this, [this](quint64 id, Ptr<ClassifyReply> reply) {
    if (id != latest_) return;
    message_->clearMessage();
    QVector<QVector<QVariant>> rows;
    if (reply->classification)
      for (const LabelScore& s : reply->classification->scores) rows.push_back({QString::fromStdString(s.label), s.score});
    labels_->setRows(rows);
    rows.clear();
    if (reply->nsp) rows = {{tr("B follows A (IsNext)"), reply->nsp->is_next}, {tr("B is random (NotNext)"), 1.0 - reply->nsp->is_next}};
    nsp_->setRows(rows);
    if (model_ && model_->nsp && !reply->nsp) message_->showNotice(tr("Add a second sentence to see next-sentence prediction."));
    labelTable_->resizeColumnToContents(0);
    nspTable_->resizeColumnToContents(0);
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job == Job::Classify && id == latest_) message_->showError(error);
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
    message_->showNotice(tr("This model has neither a classification head nor a next-sentence head (it is a %1). "
                            "Load a BertForSequenceClassification checkpoint, or fine-tune one from a CSV.")
                             .arg(QString::fromStdString(model->info.architecture)));
    return;
  }
  message_->clearMessage();
  refresh();
}

void ClassifyPage::setText(const QString& text, const QString& pair) {
  text_->setPlainText(text);
  pair_->setText(pair);
  refresh();
}

QString ClassifyPage::pairText() const { return pair_->text(); }

void ClassifyPage::refresh() {
  debounce_->stop();
  if (!model_ || (!model_->classifier && !model_->nsp)) return;
  if (text_->toPlainText().trimmed().isEmpty()) {
    latest_ = 0;
    labels_->clear();
    nsp_->clear();
    message_->showNotice(tr("Type a sentence to classify."));
    return;
  }
  latest_ = engine_->classify(text_->toPlainText(), pair_->text());
}

}  // namespace bertscope::gui
