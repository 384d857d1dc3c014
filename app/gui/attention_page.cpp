#include "attention_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "attention_export.h"
#include "attention_head_view.h"
#include "attention_legend.h"
#include "explain/attention_flow.h"
#include "head_ranking_view.h"
#include "item_models.h"
#include "model_compare.h"
#include "neuron_view.h"
#include "page_support.h"

namespace bertscope::gui {

namespace {
QScrollArea* scrolling(QWidget* inner, QWidget* parent) {
  auto* area = new QScrollArea(parent);
  area->setWidget(inner);
  area->setWidgetResizable(false);
  area->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  return area;
}
}  // namespace

AttentionPage::AttentionPage(EngineClient* engine, QWidget* parent) : QWidget(parent), engine_(engine) {
  text_ = new QLineEdit(this);
  text_->setPlaceholderText(tr("A sentence to look at"));
  pair_ = new QLineEdit(this);
  pair_->setPlaceholderText(tr("Optional second sentence"));
  hideSpecial_ = new QCheckBox(tr("Hide [CLS]/[SEP]"), this);
  meanHeads_ = new QCheckBox(tr("Mean over heads"), this);
  cellSize_ = new QSpinBox(this);
  cellSize_->setRange(2, 40);
  cellSize_->setValue(22);
  cellSize_->setPrefix(tr("cell "));
  cellSize_->setSuffix(tr(" px"));
  auto* png = new QPushButton(tr("Export PNG…"), this);
  auto* csv = new QPushButton(tr("Export CSV…"), this);
  exportAll_ = new QPushButton(tr("Export all layers…"), this);
  exportAll_->setToolTip(tr("Every layer and head, with the tokens, as JSON or as a NumPy .npy array (with its tokens "
                            "in a .json beside it)"));
  exportProgress_ = new QProgressBar(this);
  exportProgress_->setFormat(tr("layer %v of %m"));
  exportProgress_->setMaximumWidth(160);
  exportProgress_->hide();
  cancelExport_ = new QToolButton(this);
  cancelExport_->setText(tr("Cancel"));
  cancelExport_->hide();
  exporter_ = new AttentionExporter(this);
  caption_ = new QLabel(this);
  caption_->setWordWrap(true);  // "Layer 2, mean of 12 heads · 128 tokens" wraps rather than widen the window
  message_ = new MessageLine(this);
  grid_ = new AttentionGrid(this);
  heatmap_ = new AttentionHeatmap(this);
  headView_ = new HeadViewPanel(this);
  mapLegend_ = new AttentionLegend(AttentionLegend::Kind::Map, this);

  views_ = new QTabWidget(this);
  auto* map_box = new QWidget(views_);
  auto* map_layout = new QVBoxLayout(map_box);
  map_layout->setContentsMargins(4, 4, 4, 4);
  map_layout->addWidget(mapLegend_);
  // Model A's map, and model B's beside it while comparing.
  heatmapB_ = new AttentionHeatmap(this);
  heatmapB_->setObjectName(QStringLiteral("heatmapB"));
  boxB_ = new QWidget(map_box);
  captionB_ = new QLabel(boxB_);
  captionB_->setWordWrap(true);
  differenceB_ = new QCheckBox(tr("difference (A − B)"), boxB_);
  differenceB_->setObjectName(QStringLiteral("differenceAB"));
  legendB_ = new AttentionLegend(AttentionLegend::Kind::Difference, boxB_);
  legendB_->hide();
  auto* layoutB = new QVBoxLayout(boxB_);
  layoutB->setContentsMargins(0, 0, 0, 0);
  layoutB->addWidget(differenceB_);
  layoutB->addWidget(legendB_);
  layoutB->addWidget(captionB_);
  layoutB->addWidget(scrolling(heatmapB_, boxB_), 1);
  boxB_->hide();
  auto* maps = new QHBoxLayout;
  maps->addWidget(scrolling(heatmap_, map_box), 1);
  maps->addWidget(boxB_, 1);
  map_layout->addLayout(maps, 1);
  views_->addTab(map_box, tr("Map"));
  views_->addTab(headView_, tr("Head view"));

  // Switching heads off, ranking them, and the maps' source.
  sourceBox_ = new QComboBox(this);
  sourceBox_->setObjectName(QStringLiteral("attentionSource"));
  sourceBox_->addItem(tr("Attention weights"), int(Source::Weights));
  sourceBox_->addItem(tr("Rollout"), int(Source::Rollout));
  sourceBox_->addItem(tr("Flow (≤ %1 tokens)").arg(kAttentionFlowMaxTokens), int(Source::Flow));
  sourceBox_->setToolTip(tr("What the maps and the head view show. Rollout and flow (Abnar & Zuidema 2020): how much "
                            "each input token feeds each position after a layer, through every layer up to it, with the "
                            "residual connection; one map per layer. Flow is computed for inputs of up to %1 tokens.")
                             .arg(kAttentionFlowMaxTokens));
  // A checkbox, not a flat tool button: the walkthrough found the button too easy to miss.
  switchOff_ = new QCheckBox(tr("Click heads to switch them off"), this);
  switchOff_->setObjectName(QStringLiteral("switchHeadsOff"));
  switchOff_->setStyleSheet(QStringLiteral("QCheckBox { font-weight: bold; } QCheckBox:checked { color: #b00020; }"));
  switchOff_->setToolTip(
      tr("While checked, a click on a head in the model view (or the head ranking) switches it off, and a second click "
         "on again; a right-click does this at any time.\n\nSwitched off is Hugging Face's head_mask: the head's "
         "attention probabilities are multiplied by 0 after the softmax, so it adds nothing to its layer's output, and "
         "the other heads are left as they are (not renormalised). It holds for every view and task until switched "
         "back on, and their results then show the change against the full model."));
  restore_ = new QPushButton(tr("Reset"), this);
  restore_->setToolTip(tr("Switch every head back on"));
  restore_->setObjectName(QStringLiteral("restoreHeads"));
  headsOff_ = new QLabel(this);
  headsOff_->setObjectName(QStringLiteral("headsOff"));
  headsOff_->setWordWrap(true);  // a narrow window wraps it rather than widen
  rankTask_ = new QComboBox(this);
  rankTask_->setObjectName(QStringLiteral("rankTask"));
  rankTask_->setToolTip(tr("The output the heads are ranked for: the model's top choice for this task"));
  rank_ = new QPushButton(tr("Rank heads"), this);
  rank_->setObjectName(QStringLiteral("rankHeads"));
  rank_->setToolTip(tr("Switch each head off in turn and measure how much the chosen output's probability changes "
                       "(Michel et al. 2019)"));
  rankProgress_ = new QProgressBar(this);
  rankProgress_->setObjectName(QStringLiteral("rankProgress"));
  rankProgress_->setFormat(tr("%v of %m heads"));
  rankProgress_->setMaximumWidth(160);
  rankProgress_->hide();
  cancelRank_ = new QToolButton(this);
  cancelRank_->setObjectName(QStringLiteral("cancelRank"));
  cancelRank_->setText(tr("Cancel"));
  cancelRank_->setToolTip(tr("Stop ranking: the ranking stops after the pass in progress, and what is shown stays"));
  cancelRank_->hide();
  ranking_ = new HeadRankingGrid(this);
  rankingCaption_ = new QLabel(tr("Each head's importance for this input: the change in the chosen output's probability, "
                                  "in percentage points, when that head alone is switched off."), this);
  rankingCaption_->setWordWrap(true);
  rankingCaption_->setTextFormat(Qt::PlainText);
  auto* ranking_box = new QWidget(views_);
  auto* ranking_layout = new QVBoxLayout(ranking_box);
  ranking_layout->setContentsMargins(4, 4, 4, 4);
  auto* rank_for = new QHBoxLayout;
  rank_for->addWidget(new QLabel(tr("Rank for the model's top"), ranking_box));
  rank_for->addWidget(rankTask_);
  rank_for->addStretch(1);
  ranking_layout->addLayout(rank_for);
  ranking_layout->addWidget(rankingCaption_);
  // Model B's ranking beside A's while comparing.
  rankingB_ = new HeadRankingGrid(this);
  rankingB_->setObjectName(QStringLiteral("rankingB"));
  rankingBoxB_ = new QWidget(ranking_box);
  rankingCaptionB_ = new QLabel(rankingBoxB_);
  rankingCaptionB_->setWordWrap(true);
  rankingCaptionB_->setTextFormat(Qt::PlainText);
  auto* rankingLayoutB = new QVBoxLayout(rankingBoxB_);
  rankingLayoutB->setContentsMargins(0, 0, 0, 0);
  rankingLayoutB->addWidget(rankingCaptionB_);
  rankingLayoutB->addWidget(scrolling(rankingB_, rankingBoxB_), 1);
  rankingBoxB_->hide();
  auto* rankings = new QHBoxLayout;
  rankings->addWidget(scrolling(ranking_, ranking_box), 1);
  rankings->addWidget(rankingBoxB_, 1);
  ranking_layout->addLayout(rankings, 1);
  views_->addTab(ranking_box, tr("Head ranking"));
  neuronView_ = new NeuronView(engine_, views_);
  views_->addTab(neuronView_, tr("Neuron view"));
  auto* grid_box = new QWidget(this);
  auto* grid_layout = new QVBoxLayout(grid_box);
  grid_layout->setContentsMargins(0, 0, 0, 0);
  auto* gridTitle = new QLabel(tr("Model view: layers (rows) × heads. Click a map."), grid_box);
  gridTitle->setWordWrap(true);  // wraps in a narrow window instead of widening it
  grid_layout->addWidget(gridTitle);
  grid_layout->addWidget(new AttentionLegend(AttentionLegend::Kind::Map, grid_box));  // one scale for every map
  grid_layout->addWidget(scrolling(grid_, grid_box), 1);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(grid_box);
  splitter->addWidget(views_);
  splitter->setStretchFactor(1, 1);

  auto* inputs = new QHBoxLayout;
  inputs->addWidget(text_, 2);
  inputs->addWidget(pair_, 1);
  auto* options = new QHBoxLayout;
  options->addWidget(caption_, 1);
  options->addWidget(hideSpecial_);
  options->addWidget(meanHeads_);
  options->addWidget(cellSize_);
  options->addWidget(png);
  options->addWidget(csv);
  options->addWidget(exportAll_);
  options->addWidget(exportProgress_);
  options->addWidget(cancelExport_);
  auto* heads = new QHBoxLayout;
  heads->addWidget(new QLabel(tr("Show:"), this));
  heads->addWidget(sourceBox_);
  heads->addSpacing(12);
  heads->addWidget(switchOff_);
  heads->addWidget(headsOff_);
  heads->addWidget(restore_);
  heads->addStretch(1);
  heads->addWidget(rank_);
  heads->addWidget(rankProgress_);
  heads->addWidget(cancelRank_);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(inputs);
  layout->addLayout(options);
  layout->addLayout(heads);
  layout->addWidget(message_);
  compareBanner_ = new CompareBanner(engine_, Job::Attention, this);
  layout->addWidget(compareBanner_);
  layout->addWidget(splitter, 1);

  debounce_ = make_debounce(this, 300, [this] { refresh(); });
  connect(text_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(pair_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(hideSpecial_, &QCheckBox::toggled, this, &AttentionPage::rebuild);
  connect(meanHeads_, &QCheckBox::toggled, this, [this](bool mean) { select(layer_, mean ? -1 : std::max(0, head_)); });
  connect(cellSize_, &QSpinBox::valueChanged, heatmap_, &AttentionHeatmap::setCellSize);
  connect(cellSize_, &QSpinBox::valueChanged, heatmapB_, &AttentionHeatmap::setCellSize);
  connect(differenceB_, &QCheckBox::toggled, this, &AttentionPage::selectB);
  connect(engine_, &EngineClient::compareChanged, this, [this] {
    showRankingB(nullptr);  // a ranking of B comes with the next Rank heads
    resultB_.reset();
    dataB_ = AttentionData();
    selectB();
    refresh();  // model B's maps come with the next reply, or no more
  });
  connect(grid_, &AttentionGrid::selected, this, [this](int layer, int head) {
    select(layer, head);
    headView_->soloHead(head);  // a map clicked: the head view shows that head alone (the mean: every head)
  });
  connect(grid_, &AttentionGrid::headToggled, engine_, &EngineClient::toggleHead);
  connect(ranking_, &HeadRankingGrid::headClicked, engine_, &EngineClient::toggleHead);
  connect(switchOff_, &QCheckBox::toggled, grid_, &AttentionGrid::setSwitchOffMode);
  connect(restore_, &QPushButton::clicked, engine_, [this] { engine_->setHeadMask({}); });
  connect(engine_, &EngineClient::headMaskChanged, this, [this] {
    showHeadMask();
    refresh();  // the maps of heads switched off are 0
  });
  connect(sourceBox_, &QComboBox::activated, this, [this] { setSource(Source(sourceBox_->currentData().toInt())); });
  connect(engine_, &EngineClient::flowComputed, this, [this](quint64 id, Ptr<AttentionResult> result) {
    if (id != sourceRequest_) return;
    derived_ = result;
    rebuild();
  });
  connect(rank_, &QPushButton::clicked, this, &AttentionPage::rankHeads);
  connect(cancelRank_, &QToolButton::clicked, this, &AttentionPage::cancelRanking);
  connect(engine_, &EngineClient::headsRankProgress, this, [this](quint64 id, int done, int total) {
    if (id != rankRequest_) return;
    rankProgress_->setRange(0, total);
    rankProgress_->setValue(done);
  });
  connect(engine_, &EngineClient::headsRanked, this, [this](quint64 id, Ptr<RankHeadsReply> reply) {
    if (id != rankRequest_) return;
    finishRanking();
    ranking_->setRanking(reply);
    showRankingB(engine_->comparison(Job::RankHeads, id));
    const HeadRanking& r = reply->ranking;
    rankingCaption_->setText(
        tr("Heads ranked for %1: probability %2 with %3. Each cell: the change in that probability, in percentage "
           "points, when the head alone is switched off too (red, negative: the output needs it; blue, positive: it "
           "does better without it); its rank, by the drop in the logit (the probability's drop can order heads "
           "differently); and \u2207, its gradient importance (Michel et al.), the logit's derivative with respect to "
           "the head's gate. Click a cell to switch that head off or on.")
            .arg(reply->target_text, percent(r.full.probability),
                 reply->heads_off == 1   ? tr("1 head already off")
                 : reply->heads_off > 1 ? tr("%1 heads already off").arg(reply->heads_off)
                                        : tr("every head on")));
    views_->setCurrentWidget(rankingCaption_->parentWidget());
  });
  connect(headView_, &HeadViewPanel::tokenHovered, this, &AttentionPage::hoverToken);
  connect(headView_, &HeadViewPanel::layerChanged, this, [this](int layer) { select(layer, head_); });
  connect(exportAll_, &QPushButton::clicked, this, &AttentionPage::chooseExportFile);
  connect(cancelExport_, &QToolButton::clicked, exporter_, &AttentionExporter::cancel);
  connect(exporter_, &AttentionExporter::progress, exportProgress_, [this](int done, int layers) {
    exportProgress_->setRange(0, layers);
    exportProgress_->setValue(done);
  });
  connect(exporter_, &AttentionExporter::finished, this, [this](const QString& error, const QStringList& written) {
    exportProgress_->hide();
    cancelExport_->hide();
    exportAll_->setEnabled(true);
    if (!error.isEmpty()) message_->showError(tr("Attention not exported: %1").arg(error));
    else message_->showNotice(tr("Exported every layer and head to %1").arg(written.join(tr(" and "))));
  });
  connect(png, &QPushButton::clicked, this, [this] {
    if (data_.empty()) return message_->showError(tr("There is no attention map to export yet: type a sentence first."));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export attention map"), QStringLiteral("attention.png"), tr("PNG images (*.png)"));
    if (!path.isEmpty() && !exportPng(path)) message_->showError(tr("Could not write %1").arg(path));
  });
  connect(csv, &QPushButton::clicked, this, [this] {
    if (data_.empty()) return message_->showError(tr("There are no attention weights to export yet: type a sentence first."));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export attention weights"), QStringLiteral("attention.csv"), tr("CSV files (*.csv)"));
    if (!path.isEmpty() && !exportCsv(path)) message_->showError(tr("Could not write %1").arg(path));
  });
  connect(engine_, &EngineClient::attended, this, [this](quint64 id, Ptr<AttentionResult> result) {
    if (id != latest_) return;
    message_->clearMessage();
    if (result->encoding.truncated_tokens > 0)
      message_->showNotice(tr("The text is longer than the model's %1 tokens; left out at its end: %2.")
                               .arg(result->tokens).arg(truncated_text(result->encoding)));
    // Fit long texts: smaller cells, but never too small for labels (the map scrolls instead).
    if (!result_ || result_->tokens != result->tokens) cellSize_->setValue(std::clamp(640 / std::max(1, result->tokens), 10, 22));
    result_ = result;
    const ModelBAnswer* b = engine_->comparison(Job::Attention, id);
    resultB_ = b && b->problem.isEmpty() ? b->attention : nullptr;
    compareBanner_->showReply(b);
    if (source_ != Source::Weights) requestSource();  // the shown rollout or flow follows; the old one stays till then
    rebuild();
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job == Job::Attention && id == latest_) message_->showError(error);
    if (job == Job::AttentionFlow && id == sourceRequest_) {
      derived_.reset();
      rebuild();
      message_->showError(error);
    }
    if (job == Job::RankHeads && id == rankRequest_) {
      finishRanking();
      message_->showError(tr("Heads not ranked: %1").arg(error));
    }
  });
  heatmap_->setCellSize(cellSize_->value());
  heatmapB_->setCellSize(cellSize_->value());
}

void AttentionPage::setModel(const Ptr<LoadedModel>& model) {
  usable_ = model != nullptr;
  if (model) hideSpecial_->setText(tr("Hide %1/%2").arg(model->cls_token, model->sep_token));
  result_.reset();
  derived_.reset();
  resultB_.reset();
  ranking_->setRanking(nullptr);
  showRankingB(nullptr);
  rankTask_->clear();
  if (model) {  // the outputs this model has
    if (model->mlm) rankTask_->addItem(tr("masked word (type %1)").arg(model->mask_token), int(ExplainTask::FillMask));
    if (model->classifier) rankTask_->addItem(tr("label"), int(ExplainTask::Classify));
    if (model->qa) rankTask_->addItem(tr("answer start (sentence 2 is the context)"), int(ExplainTask::QuestionAnswering));
    if (model->token_classifier) rankTask_->addItem(tr("entity"), int(ExplainTask::TokenClassification));
  }
  rank_->setEnabled(rankTask_->count() > 0 && !rankProgress_->isVisible());
  layer_ = 0;
  head_ = meanHeads_->isChecked() ? -1 : 0;
  showHeadMask();
  rebuild();
  refresh();
}

void AttentionPage::showHeadMask() {
  grid_->setHeadMask(engine_->headMask());
  ranking_->setHeadMask(engine_->headMask());
  const int off = engine_->headsOff();
  const Ptr<LoadedModel>& model = engine_->model();
  const int all = model ? model->layers * model->heads : 0;
  // "3 of 144 heads off [Reset]" while any are; the Reset button only then.
  headsOff_->setText(off > 0 ? tr("%1 of %2 heads off").arg(off).arg(all) : tr("every head on"));
  headsOff_->setStyleSheet(off > 0 ? QStringLiteral("color: #b00020; font-weight: bold;") : QString());
  restore_->setEnabled(off > 0);
  restore_->setVisible(off > 0);
}

void AttentionPage::setSource(Source source) {
  source_ = source;
  sourceBox_->setCurrentIndex(sourceBox_->findData(int(source)));
  derived_.reset();
  sourceRequest_ = 0;
  if (source_ != Source::Weights) requestSource();
  rebuild();
}

void AttentionPage::requestSource() {
  if (!result_) return;
  if (source_ == Source::Flow && result_->tokens > kAttentionFlowMaxTokens) {
    sourceRequest_ = 0;
    derived_.reset();
    message_->showError(tr("Attention flow is computed for inputs of up to %1 tokens; this one has %2. Rollout works "
                           "for any length.").arg(kAttentionFlowMaxTokens).arg(result_->tokens));
    return;
  }
  sourceRequest_ = engine_->attentionFlow(result_, source_ == Source::Flow);
}

void AttentionPage::rankHeads() {
  if (!usable_ || rankTask_->count() == 0) return;
  if (text_->text().trimmed().isEmpty()) return message_->showError(tr("Type a sentence to rank the heads for."));
  rankRequest_ = engine_->rankHeads(text_->text(), pair_->text(), ExplainTask(rankTask_->currentData().toInt()));
  rank_->setEnabled(false);
  rankProgress_->setRange(0, 0);  // busy until the first batched pass reports
  rankProgress_->show();
  cancelRank_->show();
}

void AttentionPage::cancelRanking() {
  if (rankRequest_ == 0) return;
  engine_->cancelRankHeads();  // skipped if not started, else stopped after the pass in progress, without a reply
  rankRequest_ = 0;
  finishRanking();  // the grid keeps what it showed
  message_->showNotice(tr("Cancelled."));
}

void AttentionPage::showRankingB(const ModelBAnswer* b) {
  rankingB_->setRanking(b ? b->ranking : nullptr);
  rankingBoxB_->setVisible(b != nullptr);
  if (!b) return;
  const QString name = model_name(*engine_->modelB());
  if (!b->ranking) {
    rankingCaptionB_->setText(tr("Model B (%1): %2").arg(name, b->problem.isEmpty() ? tr("not ranked") : b->problem));
    return;
  }
  const HeadRanking& r = b->ranking->ranking;
  rankingCaptionB_->setText(tr("Model B (%1), every head on: heads ranked for %2, probability %3.")
                                .arg(name, b->ranking->target_text, percent(r.full.probability)));
}

void AttentionPage::finishRanking() {
  rankProgress_->hide();
  cancelRank_->hide();
  rank_->setEnabled(rankTask_->count() > 0);
}

void AttentionPage::setText(const QString& text, const QString& pair) {
  text_->setText(text);
  pair_->setText(pair);
  refresh();
}

void AttentionPage::refresh() {
  debounce_->stop();
  if (!usable_) return;
  if (text_->text().trimmed().isEmpty()) {
    latest_ = 0;
    result_.reset();
    rebuild();
    message_->showNotice(tr("Type a sentence to see where each token looks."));
    return;
  }
  latest_ = engine_->attention(text_->text(), pair_->text());
}

void AttentionPage::rebuild() {
  const auto& shown = source_ == Source::Weights ? result_ : derived_;
  data_ = shown ? AttentionData(shown, hideSpecial_->isChecked()) : AttentionData();
  grid_->setTogglable(source_ == Source::Weights);  // a rollout map is no single head
  // One rollout or flow map a layer, titled as what it is rather than "head 0".
  grid_->setMapName(source_ == Source::Rollout ? tr("rollout") : source_ == Source::Flow ? tr("flow") : QString());
  if (!data_.empty()) {
    layer_ = std::clamp(layer_, 0, data_.layers() - 1);
    head_ = std::clamp(head_, -1, data_.heads() - 1);
  }
  grid_->setData(&data_);
  grid_->resize(grid_->sizeHint());
  headView_->setData(&data_);
  dataB_ = resultB_ ? AttentionData(resultB_, hideSpecial_->isChecked()) : AttentionData();
  select(layer_, head_);
}

QString AttentionPage::differenceProblem() const {
  if (source_ != Source::Weights) return tr("the difference is of the attention weights: choose Attention weights above");
  if (!result_ || !resultB_) return tr("there are no maps of both models yet");
  if (!engine_->sameVocabulary()) return tr("the two models' vocabularies differ");
  if (resultB_->layers != result_->layers || resultB_->heads != result_->heads)
    return tr("model B has %1 layers × %2 heads, model A %3 × %4").arg(resultB_->layers).arg(resultB_->heads).arg(result_->layers).arg(result_->heads);
  if (resultB_->encoding.ids() != result_->encoding.ids()) return tr("model B reads this text as other tokens");
  return {};
}

void AttentionPage::selectB() {
  // Not isVisible(): that is false while another tab is in front, and the map must still follow.
  const bool shown = engine_->comparing() && !dataB_.empty();
  boxB_->setVisible(shown);
  heatmapB_->setData(nullptr, 0, 0);
  legendB_->hide();
  if (!shown) return;
  const QString name = model_name(*engine_->modelB());
  // A − B needs the two maps cell for cell: the same layers, heads and tokens.
  const QString problem = differenceProblem();
  differenceB_->setEnabled(problem.isEmpty());
  differenceB_->setToolTip(problem.isEmpty() ? tr("Show model A's map minus model B's, on a scale centred on 0")
                                             : tr("No difference map: %1.").arg(problem));
  if (differenceB_->isChecked() && problem.isEmpty()) {
    heatmapB_->setDifference(&data_, &dataB_, layer_, head_);
    legendB_->setMaximum(heatmapB_->maxWeight());
    legendB_->show();
    captionB_->setText(tr("A − B (%1): layer %2, %3 · red: A attends more, blue: B attends more")
                           .arg(name).arg(layer_)
                           .arg(head_ < 0 ? tr("mean of %1 heads").arg(dataB_.heads()) : tr("head %1").arg(head_)));
    return;
  }
  // B's own map of the same layer and head, or why there is none: only its weights, and only the layers and heads
  // it has.
  QString own;
  const bool hasHead = layer_ < dataB_.layers() && head_ < dataB_.heads();
  if (source_ != Source::Weights) {
    own = tr("its attention weights only (choose Attention weights above)");
  } else if (!hasHead) {
    own = tr("B has only %1 × %2, so no layer %3, %4")
              .arg(dataB_.layers() == 1 ? tr("1 layer") : tr("%1 layers").arg(dataB_.layers()))
              .arg(dataB_.heads() == 1 ? tr("1 head") : tr("%1 heads").arg(dataB_.heads()))
              .arg(layer_)
              .arg(head_ < 0 ? tr("mean") : tr("head %1").arg(head_));
  } else {
    heatmapB_->setData(&dataB_, layer_, head_);
    own = tr("layer %1, %2 · %3 tokens")
              .arg(layer_)
              .arg(head_ < 0 ? tr("mean of %1 heads").arg(dataB_.heads()) : tr("head %1").arg(head_))
              .arg(dataB_.size());
  }
  // "Its own map:" only above a map (the option's tooltip says why there is no difference either way).
  const bool ownShown = !heatmapB_->shownMap().empty();
  captionB_->setText(differenceB_->isChecked() && ownShown ? tr("Model B (%1): no difference map, %2. Its own map: %3").arg(name, problem, own)
                                                           : tr("Model B (%1): %2").arg(name, own));
}

void AttentionPage::select(int layer, int head) {
  layer_ = layer;
  head_ = head;
  meanHeads_->blockSignals(true);
  meanHeads_->setChecked(head < 0);
  meanHeads_->blockSignals(false);
  grid_->setSelected(layer, head);
  // A single head of the weights (not the mean, nor a rollout or flow map) has query and key vectors.
  neuronView_->setInput(text_->text(), pair_->text(), layer, source_ == Source::Weights && !data_.empty() ? head : -1);
  heatmap_->setData(&data_, layer, head);
  mapLegend_->setMaximum(heatmap_->maxWeight());
  selectB();
  headView_->setLayer(layer);
  if (data_.empty()) {
    caption_->clear();
    return;
  }
  if (source_ != Source::Weights) {
    caption_->setText(tr("Layer %1, %2 through layers 0–%1 · %3 tokens")
                          .arg(layer)
                          .arg(source_ == Source::Rollout ? tr("attention rollout") : tr("attention flow"))
                          .arg(data_.size()));
    return;
  }
  caption_->setText(tr("Layer %1, %2 · %3 tokens")
                        .arg(layer)
                        .arg(head < 0 ? tr("mean of %1 heads").arg(data_.heads()) : tr("head %1").arg(head))
                        .arg(data_.size()));
}

void AttentionPage::hoverToken(int token) {
  grid_->setHoveredToken(token);
  heatmap_->setHoveredToken(token);
  headView_->setHoveredToken(token);
}

bool AttentionPage::exportPng(const QString& path) {
  if (data_.empty()) return false;
  return heatmap_->render().save(path, "PNG");
}

bool AttentionPage::exportCsv(const QString& path) {
  if (data_.empty()) return false;
  QSaveFile file(path);  // written whole or not at all
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) return false;
  file.write(data_.csv(layer_, head_).toUtf8());
  return file.commit();
}

void AttentionPage::showHeadView() { views_->setCurrentWidget(headView_); }

void AttentionPage::showNeuronView() { views_->setCurrentWidget(neuronView_); }

void AttentionPage::chooseExportFile() {
  if (!result_) {
    message_->showError(tr("There is no attention to export yet: type a sentence first."));
    return;
  }
  const QString json = tr("JSON: tokens and every layer × head (*.json)");
  const QString npy = tr("NumPy array (layers, heads, tokens, tokens), tokens in a .json beside it (*.npy)");
  // Suggest a name that is free: bertscope never writes over a file, so picking an existing one only gets a refusal.
  QString suggestion = QStringLiteral("attention-all.json");
  for (int i = 2; QFileInfo::exists(suggestion) && i < 1000; ++i) suggestion = QStringLiteral("attention-all-%1.json").arg(i);
  QString filter = json;
  QString path = QFileDialog::getSaveFileName(this, tr("Export every layer and head"), suggestion, json + QStringLiteral(";;") + npy,
                                              &filter, QFileDialog::DontConfirmOverwrite);
  if (path.isEmpty()) return;
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix != QLatin1String("json") && suffix != QLatin1String("npy"))
    path += filter == npy ? QStringLiteral(".npy") : QStringLiteral(".json");
  exportAll(path);
}

bool AttentionPage::exportAll(const QString& path) {
  const QString error = exporter_->start(result_, path);
  if (!error.isEmpty()) {
    message_->showError(tr("Attention not exported: %1").arg(error));
    return false;
  }
  exportAll_->setEnabled(false);
  exportProgress_->setRange(0, result_->layers);
  exportProgress_->setValue(0);
  exportProgress_->show();
  cancelExport_->show();
  message_->showNotice(tr("Exporting every layer and head to %1…").arg(path));
  return true;
}

}  // namespace bertscope::gui
