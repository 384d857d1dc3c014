#include "attention_page.h"

#include <QCheckBox>
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
  map_layout->addWidget(scrolling(heatmap_, map_box), 1);
  views_->addTab(map_box, tr("Map"));
  views_->addTab(headView_, tr("Head view"));
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
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(inputs);
  layout->addLayout(options);
  layout->addWidget(message_);
  layout->addWidget(splitter, 1);

  debounce_ = make_debounce(this, 300, [this] { refresh(); });
  connect(text_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(pair_, &QLineEdit::textChanged, debounce_, qOverload<>(&QTimer::start));
  connect(hideSpecial_, &QCheckBox::toggled, this, &AttentionPage::rebuild);
  connect(meanHeads_, &QCheckBox::toggled, this, [this](bool mean) { select(layer_, mean ? -1 : std::max(0, head_)); });
  connect(cellSize_, &QSpinBox::valueChanged, heatmap_, &AttentionHeatmap::setCellSize);
  connect(grid_, &AttentionGrid::selected, this, [this](int layer, int head) {
    select(layer, head);
    headView_->soloHead(head);  // a map clicked: the head view shows that head alone (the mean: every head)
  });
  connect(heatmap_, &AttentionHeatmap::tokenHovered, this, &AttentionPage::hoverToken);
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
      message_->showNotice(tr("The text is longer than the model's %1 tokens; the last %2 tokens were left out.")
                               .arg(result->tokens).arg(result->encoding.truncated_tokens));
    // Fit long texts: smaller cells, but never too small for labels (the map scrolls instead).
    if (!result_ || result_->tokens != result->tokens) cellSize_->setValue(std::clamp(640 / std::max(1, result->tokens), 10, 22));
    result_ = result;
    rebuild();
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job == Job::Attention && id == latest_) message_->showError(error);
  });
  heatmap_->setCellSize(cellSize_->value());
}

void AttentionPage::setModel(const Ptr<LoadedModel>& model) {
  usable_ = model != nullptr;
  if (model) hideSpecial_->setText(tr("Hide %1/%2").arg(model->cls_token, model->sep_token));
  result_.reset();
  layer_ = 0;
  head_ = meanHeads_->isChecked() ? -1 : 0;
  rebuild();
  refresh();
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
  data_ = result_ ? AttentionData(result_, hideSpecial_->isChecked()) : AttentionData();
  if (!data_.empty()) {
    layer_ = std::clamp(layer_, 0, data_.layers() - 1);
    head_ = std::clamp(head_, -1, data_.heads() - 1);
  }
  grid_->setData(&data_);
  grid_->resize(grid_->sizeHint());
  headView_->setData(&data_);
  select(layer_, head_);
}

void AttentionPage::select(int layer, int head) {
  layer_ = layer;
  head_ = head;
  meanHeads_->blockSignals(true);
  meanHeads_->setChecked(head < 0);
  meanHeads_->blockSignals(false);
  grid_->setSelected(layer, head);
  heatmap_->setData(&data_, layer, head);
  mapLegend_->setMaximum(heatmap_->maxWeight());
  headView_->setLayer(layer);
  if (data_.empty()) {
    caption_->clear();
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
