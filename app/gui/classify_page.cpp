#include "classify_page.h"

#include <QGroupBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QTableView>
#include <QVBoxLayout>

#include "head_ablation.h"
#include "item_models.h"
#include "model_compare.h"
#include "page_support.h"
#include "saliency_panel.h"

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
  ablationBanner_ = new AblationBanner(engine, this);
  layout->addWidget(ablationBanner_);
  compareBanner_ = new CompareBanner(engine, Job::Classify, this);
  layout->addWidget(compareBanner_);
  layout->addWidget(text_);
  layout->addWidget(pair_);
  layout->addWidget(addSaliency(ExplainTask::Classify));
  layout->addWidget(wrapResults(results), 2);
  layout->addStretch(0);

  connect(text_, &QPlainTextEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(pair_, &QLineEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(labelTable_, &QTableView::clicked, this, [this](const QModelIndex& index) { explainLabel(index.row()); });
  labelTable_->setToolTip(tr("With saliency on, click a label to explain it"));
  connect(engine, &EngineClient::headMaskChanged, this, [this] { refresh(); });  // answer with the heads now off
  connect(engine, &EngineClient::compareChanged, this, [this] { refresh(); });   // model B answers too, or no more
  onReply(&EngineClient::classified, [this](const Ptr<ClassifyReply>& reply) {
    message()->clearMessage();
    // With heads switched off: each probability's change against the full model, a changed top label flagged.
    const Ablation* ablation = this->engine()->ablation(Job::Classify, latestRequest());
    // While comparing: model B's probability of each label (by name) and its change from A's.
    const ModelBAnswer* b = this->engine()->comparison(Job::Classify, latestRequest());
    const bool lined_up = b && b->aligned && b->problem.isEmpty();
    QStringList topChanges, topChangesB;
    const auto show = [&](ResultTableModel* table, const QString& first, QVector<QVector<QVariant>> rows, const Comparison* comparison,
                          const ModelBColumns* columnsB) {
      QStringList headers{first, tr("Probability")};
      add_change_column(headers, rows, comparison);
      add_model_b_columns(headers, rows, columnsB, table);
      if (comparison) topChanges << comparison->topChange;
      if (columnsB) topChangesB << columnsB->topChange;
      if (headers.size() != table->columnCount()) table->setHeaders(headers);
      table->setRows(rows);
    };
    QVector<QVector<QVariant>> rows;
    Comparison comparison;
    ModelBColumns columnsB;
    const bool labelsB = lined_up && reply->classification && b->classification;
    if (reply->classification) {
      for (const LabelScore& s : reply->classification->scores) rows.push_back({QString::fromStdString(s.label), s.score});
      if (ablation && ablation->full->classification) comparison = compare_labels(*reply->classification, *ablation->full->classification);
      if (labelsB) columnsB = compare_labels_b(*reply->classification, *b->classification);
    }
    show(labels_, tr("Label"), rows, ablation && reply->classification ? &comparison : nullptr, labelsB ? &columnsB : nullptr);
    rows.clear();
    comparison = {};
    columnsB = {};
    const bool nspB = lined_up && reply->nsp && b->nsp;
    if (reply->nsp) {
      rows = {{tr("B follows A (IsNext)"), reply->nsp->is_next}, {tr("B is random (NotNext)"), 1.0 - reply->nsp->is_next}};
      if (ablation && ablation->full->nsp) comparison = compare_next_sentence(*reply->nsp, *ablation->full->nsp);
      if (nspB) columnsB = compare_next_sentence_b(*reply->nsp, *b->nsp);
    }
    show(nsp_, tr("Relation"), rows, ablation && reply->nsp ? &comparison : nullptr, nspB ? &columnsB : nullptr);
    ablationBanner_->showReply(ablation, topChanges);
    compareBanner_->showReply(b, topChangesB);
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
  setInputsUsable({text_, pair_}, !model || model->classifier || model->nsp);
  if (!model) return;
  if (!model->classifier && !model->nsp) {
    dropRequests();
    message()->showNotice(tr("This model has neither a classification head nor a next-sentence head (it is a %1). "
                            "Load a BertForSequenceClassification checkpoint, or make one: on the Fine-tune tab, train "
                            "sentence classification on a CSV, press Save…, then Open saved model.")
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
  saliency()->explain({ExplainTask::Classify, text_->toPlainText(), pair_->text()});  // the top label until one is clicked
}

void ClassifyPage::explainLabel(int label) {
  if (label >= 0 && label < labels_->rowCount()) saliency()->setTarget(0, label);  // rows are in label id order
}

}  // namespace bertscope::gui
