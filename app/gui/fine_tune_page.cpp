#include "fine_tune_page.h"

#include <QAbstractButton>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>
#include <cmath>
#include <set>

#include "item_models.h"
#include "page_support.h"
#include "tagged_data_panel.h"
#include "train/seqeval.h"

namespace bertscope::gui {

namespace {
// A name in `dir` that is not taken ("fine-tuned-model", else "fine-tuned-model-2", "-3", ...): saving never
// replaces a folder that exists (core/safe_files.h), so the name the Save dialog suggests must be free.
QString fresh_folder(const QDir& dir, const QString& base) {
  QString name = base;
  for (int n = 2; QFileInfo::exists(dir.filePath(name)); ++n) name = base + QLatin1Char('-') + QString::number(n);
  return dir.filePath(name);
}

// The x axis counts steps or epochs: ticks at whole numbers, 1, 2 or 5 x 10^k apart, as many as its labels fit
// side by side in the plot's width (more would be elided to "1…"; fractions would read "0 0 0 0 1"). The spacing
// is set before the range: a range of 10,000 steps at the old spacing of 1 would make 10,000 tick items.
void fit_x_ticks(QChart* chart, double max_x) {
  auto* x = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).value(0));
  if (!x) return;
  max_x = std::max(1.0, max_x);
  const QFontMetrics metrics(x->labelsFont());
  const int label = metrics.horizontalAdvance(QString::number(std::llround(max_x))) + 16;  // the widest, and a gap
  const double width = chart->plotArea().width() > 0 ? chart->plotArea().width() : 120;
  const double most = std::max(1.0, std::floor(width / label));  // intervals that fit
  double step = 1;
  for (int k = 0; max_x / step > most && k < 60; ++k) {  // 1, 2, 5, 10, 20, 50, ...
    const double decade = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    step = step / decade < 1.5 ? 2 * decade : step / decade < 3.5 ? 5 * decade : 10 * decade;
  }
  if (x->tickType() != QValueAxis::TicksDynamic || x->tickInterval() != step) {  // else settled: no relayout loop
    x->setTickType(QValueAxis::TicksDynamic);
    x->setTickAnchor(0);
    x->setTickInterval(step);
  }
  if (x->min() != 0 || x->max() != max_x) x->setRange(0, max_x);
}

QChartView* chart_view(const QString& title, std::initializer_list<QLineSeries*> series, const QString& x, QWidget* parent) {
  auto* chart = new QChart;
  chart->setTitle(title);
  for (QLineSeries* s : series) chart->addSeries(s);
  chart->createDefaultAxes();
  chart->axes(Qt::Horizontal).first()->setTitleText(x);
  for (QAbstractAxis* axis : chart->axes()) {
    auto* value = qobject_cast<QValueAxis*>(axis);
    if (!value) continue;
    value->setTickCount(5);
    value->setLabelFormat(axis->orientation() == Qt::Horizontal ? QStringLiteral("%d") : QStringLiteral("%.2f"));
  }
  fit_x_ticks(chart, 1);
  QObject::connect(chart, &QChart::plotAreaChanged, chart, [chart] {
    if (auto* x = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).value(0))) fit_x_ticks(chart, x->max());
  });
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(200, 190);  // below this the axes collapse to "…"; the page scrolls instead
  return view;
}

// The y axis from min_y to max_y with ticks at round values from 0 (1, 2 or 5 x 10^k apart, at most seven of them):
// five even ticks over 0 to 0.836 read "0.00 0.21 0.42 0.63 0.84"; with these a loss reads "0.0 0.2 0.4 0.6 0.8".
void fit_axes(QChartView* view, double max_x, double min_y, double max_y) {
  fit_x_ticks(view->chart(), max_x);
  auto* y = qobject_cast<QValueAxis*>(view->chart()->axes(Qt::Vertical).first());
  if (!y) return;
  double step = std::pow(10.0, std::floor(std::log10(std::max(1e-9, max_y - std::max(0.0, min_y)) / 4)));
  for (double factor : {2.0, 2.5, 2.0})  // 1, 2, 5, 10 x 10^k
    if ((max_y - std::max(0.0, min_y)) / step > 6) step *= factor;
  y->setTickType(QValueAxis::TicksDynamic);
  y->setTickAnchor(0);
  y->setTickInterval(step);
  y->setLabelFormat(step >= 1 ? QStringLiteral("%.0f") : step >= 0.1 ? QStringLiteral("%.1f") : QStringLiteral("%.2f"));
  y->setRange(min_y, max_y);
}

// Accuracy and F1 are often equal: markers of two sizes and a dashed line keep both visible on top of each other.
void style_series(QLineSeries* series, Qt::PenStyle style, qreal marker) {
  QPen pen = series->pen();
  pen.setWidthF(2);
  pen.setStyle(style);
  series->setPen(pen);
  series->setPointsVisible(true);
  series->setMarkerSize(marker);
}

QString duration(double seconds) {
  const int s = int(seconds + 0.5);
  return s >= 3600 ? QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'))
                   : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QSpinBox* spin(int min, int max, int value, QWidget* parent) {
  auto* s = new QSpinBox(parent);
  s->setRange(min, max);
  s->setValue(value);
  return s;
}

QDoubleSpinBox* dspin(double min, double max, double value, int decimals, double step, QWidget* parent) {
  auto* s = new QDoubleSpinBox(parent);
  s->setDecimals(decimals);
  s->setRange(min, max);
  s->setSingleStep(step);
  s->setValue(value);
  return s;
}
}  // namespace

FineTunePage::FineTunePage(QWidget* parent) : QWidget(parent) {
  job_ = new TrainingJob(this);
  message_ = new MessageLine(this);
  task_ = new QComboBox(this);
  task_->setObjectName(QStringLiteral("fineTuneTask"));
  task_->addItem(tr("Sentence classification: labelled sentences (CSV, TSV)"), int(FineTuneTask::SentenceClassification));
  task_->addItem(tr("Token classification: named entities, parts of speech (CoNLL, JSON lines)"),
                 int(FineTuneTask::TokenClassification));
  // QA HOOK: question answering (SQuAD JSON) becomes a third entry here, with its data panel as a third page of
  // dataPages_ and its branch in start() (TrainingJob, training_job.h, says what the job side needs).
  task_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);  // long names must not widen the page
  task_->setMinimumContentsLength(16);
  tagged_ = new TaggedDataPanel(this);
  path_ = new QLineEdit(this);
  path_->setPlaceholderText(tr("A CSV or TSV file of labelled sentences"));
  path_->setReadOnly(true);
  auto* choose = choose_ = new QPushButton(tr("Choose CSV…"), this);
  delimiter_ = new QComboBox(this);
  for (auto [name, c] : {std::pair{tr("Detect delimiter"), 0}, {tr("Comma"), ','}, {tr("Tab"), '\t'}, {tr("Semicolon"), ';'}, {tr("Bar |"), '|'}})
    delimiter_->addItem(name, c);
  header_ = new QComboBox(this);
  header_->addItem(tr("Detect header"), -1);
  header_->addItem(tr("First row is a header"), 1);
  header_->addItem(tr("No header row"), 0);
  stopOnBad_ = new QCheckBox(tr("Stop at the first bad row"), this);
  summary_ = new QLabel(this);
  preview_ = new ResultTableModel({}, -1, this);
  previewTable_ = new QTableView(this);
  auto* previewTable = previewTable_;
  previewTable->setModel(preview_);
  previewTable->verticalHeader()->hide();
  textColumn_ = new QComboBox(this);
  labelColumn_ = new QComboBox(this);
  labels_ = new QLabel(this);
  labels_->setWordWrap(true);
  labelNames_ = new QTableWidget(0, 3, this);
  labelNames_->setObjectName(QStringLiteral("labelNames"));
  labelNames_->setHorizontalHeaderLabels({tr("Label"), tr("Sentences"), tr("Name (id2label)")});
  labelNames_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  labelNames_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);  // never wider than the panel
  labelNames_->verticalHeader()->setDefaultSectionSize(labelNames_->fontMetrics().height() + 8);
  labelNames_->verticalHeader()->hide();
  labelNames_->setToolTip(tr("Name each label as the fine-tuned model should call it (e.g. 0 → negative): the names "
                             "go into the saved config.json as id2label and label2id. Double-click a name to edit it."));
  labelNames_->setMinimumHeight(60);
  labelNames_->setMaximumHeight(120);
  labelNames_->hide();  // until a CSV's labels are known

  epochs_ = spin(1, 200, 3, this);
  batch_ = spin(1, 256, 16, this);
  maxLength_ = spin(8, 512, 128, this);
  seed_ = spin(0, 1000000, 0, this);
  freeze_ = spin(0, 0, 0, this);
  learningRate_ = dspin(1e-6, 1e-2, 5e-5, 6, 1e-5, this);
  validation_ = dspin(0.0, 0.5, 0.2, 2, 0.05, this);
  dropout_ = dspin(0.0, 0.5, 0.1, 2, 0.05, this);
  dropout_->setToolTip(tr("Hidden and attention dropout while training. The classification head uses the model's own "
                           "rate where its config sets one (DistilBERT: 0.2); 0 turns all dropout off."));
  auto* hyper = new QFormLayout;
  hyper->addRow(tr("Epochs"), epochs_);
  hyper->addRow(tr("Learning rate"), learningRate_);
  hyper->addRow(tr("Batch size"), batch_);
  hyper->addRow(tr("Max tokens"), maxLength_);
  hyper->addRow(tr("Validation share"), validation_);
  hyper->addRow(tr("Dropout"), dropout_);
  hyper->addRow(tr("Frozen layers"), freeze_);
  hyper->addRow(tr("Seed"), seed_);

  start_ = new QPushButton(tr("Start"), this);
  cancel_ = new QPushButton(tr("Cancel"), this);
  save_ = new QPushButton(tr("Save…"), this);
  openSaved_ = new QPushButton(tr("Open saved model"), this);
  cancel_->setEnabled(false);
  save_->setEnabled(false);
  openSaved_->setEnabled(false);
  progress_ = new QProgressBar(this);
  progress_->setFormat(tr("not started"));
  progress_->setValue(0);
  status_ = new QLabel(this);
  status_->setWordWrap(true);  // a long line must not widen the window
  status_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  loss_ = new QLineSeries(this);
  loss_->setName(tr("training loss (smoothed)"));
  accuracy_ = new QLineSeries(this);
  accuracy_->setName(tr("accuracy"));
  f1_ = new QLineSeries(this);
  f1_->setName(tr("F1"));
  lossChart_ = chart_view(tr("Training loss (smoothed)"), {loss_}, tr("step"), this);
  lossChart_->chart()->legend()->hide();  // one series: the title names it
  accuracyChart_ = chart_view(tr("Validation"), {accuracy_, f1_}, tr("epoch"), this);
  style_series(accuracy_, Qt::SolidLine, 9);
  style_series(f1_, Qt::DashLine, 6);
  confusion_ = new QTableWidget(this);
  confusion_->setMinimumHeight(80);
  confusion_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  confusion_->setToolTip(tr("Rows: true label. Columns: predicted label."));
  mistakes_ = new ResultTableModel({tr("Sentence"), tr("Gold"), tr("Predicted"), tr("Confidence")}, 3, this);
  auto* mistakesTable = new QTableView(this);
  mistakesTable->setObjectName(QStringLiteral("misclassified"));
  mistakesTable->setModel(mistakes_);
  mistakesTable->setItemDelegateForColumn(3, new ProbabilityDelegate(mistakesTable));
  mistakesTable->verticalHeader()->hide();
  mistakesTable->setWordWrap(false);
  mistakesTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  mistakesTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  mistakesTable->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Fixed);  // a bar: no need to be wide
  mistakesTable->horizontalHeader()->resizeSection(3, 90);
  mistakesTable->verticalHeader()->setDefaultSectionSize(mistakesTable->fontMetrics().height() + 8);
  mistakesTable->setToolTip(tr("Validation sentences the fine-tuned model gets wrong after the last epoch, the most "
                               "confident mistakes first (often a wrong gold label, or what the model did not learn)."));
  tryText_ = new QLineEdit(this);
  tryText_->setPlaceholderText(tr("Try a sentence on the fine-tuned model"));
  tryText_->setEnabled(false);
  tryResults_ = new ResultTableModel({tr("Label"), tr("Fine-tuned"), tr("Before training")}, QList<int>{1, 2}, this);
  tryTags_ = new ResultTableModel({tr("Word"), tr("Fine-tuned"), tr("Before training")}, QList<int>{}, this);
  auto* tryTable = tryTable_ = new QTableView(this);
  tryTable->setModel(tryResults_);
  tryTable->setItemDelegateForColumn(1, new ProbabilityDelegate(tryTable));
  tryTable->setItemDelegateForColumn(2, new ProbabilityDelegate(tryTable));
  tryTable->verticalHeader()->hide();
  tryTable->horizontalHeader()->setStretchLastSection(true);
  tryTable->setMinimumHeight(80);
  tryTable->verticalHeader()->setDefaultSectionSize(tryTable->fontMetrics().height() + 8);
  skipped_ = new QPlainTextEdit(this);
  skipped_->setReadOnly(true);
  skipped_->setObjectName(QStringLiteral("skippedRows"));
  skipped_->setMaximumHeight(90);
  skipped_->setStyleSheet(QStringLiteral("QPlainTextEdit { background: #fff8e1; }"));
  skipped_->hide();
  summary_->setWordWrap(true);
  previewTable_->setMinimumHeight(90);

  // Layout: data (left), settings and run (middle), results (right).
  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(path_, 1);
  fileRow->addWidget(choose);
  auto* parseRow = new QHBoxLayout;
  parseRow->addWidget(delimiter_);
  parseRow->addWidget(header_);
  parseRow->addStretch(1);
  auto* columns = new QFormLayout;
  columns->addRow(tr("Text column"), textColumn_);
  columns->addRow(tr("Label column"), labelColumn_);
  auto* csvPanel = new QWidget(this);
  auto* dataLayout = new QVBoxLayout(csvPanel);
  dataLayout->setContentsMargins(0, 0, 0, 0);
  dataLayout->addLayout(fileRow);
  dataLayout->addLayout(parseRow);
  dataLayout->addWidget(stopOnBad_);
  dataLayout->addWidget(summary_);
  dataLayout->addWidget(previewTable, 1);
  dataLayout->addWidget(skipped_);
  dataLayout->addLayout(columns);
  dataLayout->addWidget(labels_);
  dataLayout->addWidget(labelNames_);
  dataPages_ = new QStackedWidget(this);
  dataPages_->addWidget(csvPanel);  // index = FineTuneTask
  dataPages_->addWidget(tagged_);
  auto* dataBox = new QGroupBox(tr("Data"), this);
  auto* dataBoxLayout = new QVBoxLayout(dataBox);
  dataBoxLayout->addWidget(task_);
  dataBoxLayout->addWidget(dataPages_, 1);
  auto* runBox = new QGroupBox(tr("Training"), this);
  auto* runLayout = new QVBoxLayout(runBox);
  runLayout->addLayout(hyper);
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(cancel_);
  runLayout->addLayout(buttons);
  runLayout->addWidget(progress_);
  runLayout->addWidget(status_);
  auto* saveRow = new QHBoxLayout;
  saveRow->addWidget(save_);
  saveRow->addWidget(openSaved_);
  runLayout->addLayout(saveRow);
  runLayout->addStretch(1);
  auto* resultsBox = new QGroupBox(tr("Results"), this);
  auto* resultsLayout = new QVBoxLayout(resultsBox);
  auto* charts = new QHBoxLayout;
  charts->addWidget(lossChart_);
  charts->addWidget(accuracyChart_);
  resultsLayout->addLayout(charts, 3);
  details_ = new QTabWidget(resultsBox);
  details_->addTab(confusion_, tr("Confusion matrix"));
  details_->addTab(mistakesTable, tr("Misclassified"));
  details_->setTabToolTip(0, tr("Validation, last epoch: rows are the true labels, columns the predicted ones."));
  resultsLayout->addWidget(details_, 2);
  resultsLayout->addWidget(tryText_);
  resultsLayout->addWidget(tryTable, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(dataBox);
  split->addWidget(runBox);
  split->addWidget(resultsBox);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  split->setStretchFactor(2, 4);
  split->setChildrenCollapsible(false);
  // Below the message line everything scrolls: the page fits a 1024 x 700 window as it is; in a smaller one scroll
  // bars appear, instead of charts squeezed to "…" and widgets drawn over each other.
  auto* content = new QWidget;
  auto* contentLayout = new QVBoxLayout(content);
  contentLayout->setContentsMargins(0, 0, 0, 0);
  contentLayout->addWidget(split);
  scroll_ = new QScrollArea(this);
  scroll_->setWidgetResizable(true);
  scroll_->setFrameShape(QFrame::NoFrame);
  scroll_->setWidget(content);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(message_);
  layout->addWidget(scroll_, 1);

  connect(choose, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Labelled sentences"), QString(), tr("CSV and TSV files (*.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty()) loadCsv(path);
  });
  connect(task_, &QComboBox::activated, this, [this](int index) { setTask(FineTuneTask(task_->itemData(index).toInt())); });
  connect(tagged_, &TaggedDataPanel::failed, message_, &MessageLine::showError);
  connect(tagged_, &TaggedDataPanel::changed, this, [this] {
    if (tagged_->hasData()) message_->clearMessage();
  });
  connect(delimiter_, &QComboBox::activated, this, &FineTunePage::reloadCsv);
  connect(header_, &QComboBox::activated, this, &FineTunePage::reloadCsv);
  connect(stopOnBad_, &QCheckBox::toggled, this, &FineTunePage::reloadCsv);
  connect(textColumn_, &QComboBox::activated, this, &FineTunePage::readColumns);
  connect(labelColumn_, &QComboBox::activated, this, &FineTunePage::readColumns);
  connect(start_, &QPushButton::clicked, this, &FineTunePage::start);
  connect(cancel_, &QPushButton::clicked, this, &FineTunePage::cancel);
  connect(save_, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getSaveFileName(this, tr("Save the fine-tuned model as a folder"), suggestedSaveFolder());
    if (!folder.isEmpty()) saveTo(folder);
  });
  connect(openSaved_, &QPushButton::clicked, this, [this] { emit openModelRequested(savedFolder_); });
  auto* tryDebounce = make_debounce(this, 200, [this] { trySentence(tryText_->text()); });
  connect(tryText_, &QLineEdit::textChanged, tryDebounce, qOverload<>(&QTimer::start));

  connect(job_, &TrainingJob::progress, this, [this](const TrainProgress& p) {
    progress_->setMaximum(p.total_steps);
    progress_->setValue(p.step);
    // The bar's text stays short (it does not wrap); the rest goes to the status line, which does.
    progress_->setFormat(tr("step %1 of %2").arg(p.step).arg(p.total_steps));
    status_->setText(tr("epoch %1/%2 · %3 left · loss %4 · learning rate %5 · %6 sentences/s")
                         .arg(p.epoch).arg(p.epochs).arg(duration(p.eta_seconds)).arg(p.loss, 0, 'f', 4)
                         .arg(p.learning_rate, 0, 'g', 3).arg(p.sentences_per_second, 0, 'f', 1));
    // An exponential moving average of the batch losses, as training dashboards show them.
    smoothedLoss_ = loss_->count() == 0 ? p.step_loss : 0.9 * smoothedLoss_ + 0.1 * p.step_loss;
    loss_->append(p.step, smoothedLoss_);
    double top = 0.1;
    for (const QPointF& point : loss_->points()) top = std::max(top, point.y());
    fit_axes(lossChart_, p.total_steps, 0, top * 1.1);
  });
  connect(job_, &TrainingJob::epochDone, this, &FineTunePage::showEpoch);
  connect(job_, &TrainingJob::finished, this, [this](bool cancelled, const QString& error) {
    setRunning(false);
    if (!error.isEmpty()) message_->showError(tr("Training stopped: %1").arg(error));
    else if (cancelled) message_->showNotice(tr("Training cancelled. Nothing was saved; the model you started from is unchanged."));
    else message_->showNotice(tr("Training finished. Try sentences below, or save the model."));
    save_->setEnabled(job_->hasModel());
    tryText_->setEnabled(job_->hasModel());
    if (job_->hasModel() && !tryText_->text().isEmpty()) trySentence(tryText_->text());
  });
  connect(job_, &TrainingJob::mistakesFound, this, &FineTunePage::showMistakes);
  connect(job_, &TrainingJob::triedTags, this, [this](quint64 id, const QStringList& words, const QStringList& after,
                                                      const QStringList& before) {
    if (id != tryId_) return;
    QVector<QVector<QVariant>> rows;
    for (int i = 0; i < words.size(); ++i) rows.push_back({words[i], after.value(i), before.value(i)});
    tryTags_->setRows(rows);
  });
  connect(job_, &TrainingJob::tried, this, [this](quint64 id, const QVector<double>& after, const QVector<double>& before) {
    if (id != tryId_) return;
    QVector<QVector<QVariant>> rows;
    for (int i = 0; i < after.size() && i < int(trainedLabels_.size()); ++i)
      rows.push_back({QString::fromStdString(trainedLabels_[size_t(i)]), after[i], before.value(i)});
    tryResults_->setRows(rows);
  });
  connect(job_, &TrainingJob::saved, this, [this](const QString& folder, const QString& error) {
    if (!error.isEmpty()) {
      message_->showError(tr("Could not save: %1").arg(error));
      return;
    }
    savedFolder_ = folder;
    openSaved_->setEnabled(true);
    message_->showNotice(tr("Saved to %1 (Hugging Face layout).").arg(folder));
  });
  setModel(nullptr);
}

void FineTunePage::setModel(const Ptr<LoadedModel>& model) {
  model_ = model;
  freeze_->setMaximum(model ? model->info.layers : 0);
  start_->setEnabled(model && !job_->running());
  if (!model) return;
  // Starting points that work for the model at hand (sentiment split, docs: README benchmarks): BERT's usual 5e-5
  // and 3 epochs for bert-base-sized models; small models like the default one need larger steps (5e-5 x 3: 78%,
  // 1e-4 x 5: 85%); random weights learn nothing at 5e-5 in a few epochs.
  const bool small = model->info.hidden <= 256;
  learningRate_->setValue(model->info.untrained ? 3e-4 : small ? 1e-4 : 5e-5);
  epochs_->setValue(small ? 5 : 3);
}

QString FineTunePage::dataSummary() const { return summary_->text() + QLatin1Char(' ') + labels_->text(); }

bool FineTunePage::loadCsv(const QString& path) {
  if (job_->running()) return false;  // the run's data stays the data shown (Choose CSV… is disabled too)
  setTask(FineTuneTask::SentenceClassification);
  path_->setText(path);
  reloadCsv();
  return table_.has_value();
}

void FineTunePage::reloadCsv() {
  table_.reset();
  data_.reset();
  preview_->setHeaders({});
  textColumn_->clear();
  labelColumn_->clear();
  summary_->clear();
  labels_->clear();
  skipped_->clear();
  skipped_->hide();
  if (path_->text().isEmpty()) return;
  CsvOptions options;
  options.delimiter = char(delimiter_->currentData().toInt());
  options.header = header_->currentData().toInt();
  options.bad_rows = stopOnBad_->isChecked() ? BadRows::Stop : BadRows::Skip;
  try {
    table_ = read_csv(path_->text().toStdString(), options);
  } catch (const std::exception& e) {
    message_->showError(QString::fromUtf8(e.what()));
    return;
  }
  message_->clearMessage();
  const CsvTable& t = *table_;
  QStringList headers;
  for (const auto& c : t.columns) headers << QString::fromStdString(c);
  preview_->setHeaders(headers);
  QVector<QVector<QVariant>> rows;
  for (size_t r = 0; r < t.rows.size() && r < 50; ++r) {
    QVector<QVariant> row;
    for (const auto& f : t.rows[r]) row << QString::fromStdString(f);
    rows << row;
  }
  preview_->setRows(rows);
  QString text = tr("%1 rows · %2-separated · %3").arg(t.rows.size()).arg(QString::fromStdString(delimiter_name(t.delimiter)))
                     .arg(t.has_header ? tr("header row") : tr("no header row"));
  if (!t.problems.empty()) text += tr(" · %n row(s) skipped (listed below)", nullptr, int(t.problems.size()));
  summary_->setText(text);
  showSkipped();
  if (t.columns.size() < 2) {  // not "the text and the label must be different columns"
    message_->showError(tr("Only one column was found (reading the file as %1-separated): fine-tuning needs a text "
                           "column and a label column. Choose the delimiter%2.")
                            .arg(QString::fromStdString(delimiter_name(t.delimiter)),
                                 t.problems.empty() ? QString() : tr(", or fix the rows listed below")));
    return;
  }
  if (t.rows.empty()) {
    message_->showError(tr("No row of the file could be read; the rows and why are listed below."));
    return;
  }
  // Guess the columns: the text has the longest values, the label (another column) the fewest distinct ones.
  std::vector<double> length(size_t(headers.size()), 0);
  std::vector<size_t> distinct_count(size_t(headers.size()), 0);
  for (int c = 0; c < headers.size(); ++c) {
    std::set<std::string> distinct;
    for (size_t r = 0; r < t.rows.size() && r < 500; ++r) {
      length[size_t(c)] += double(t.rows[r][size_t(c)].size());
      distinct.insert(t.rows[r][size_t(c)]);
    }
    distinct_count[size_t(c)] = distinct.size();
  }
  const int text_guess = int(std::max_element(length.begin(), length.end()) - length.begin());
  int label_guess = text_guess == 0 ? 1 : 0;
  for (int c = 0; c < headers.size(); ++c)
    if (c != text_guess && distinct_count[size_t(c)] >= 2 &&
        (distinct_count[size_t(label_guess)] < 2 || distinct_count[size_t(c)] < distinct_count[size_t(label_guess)]))
      label_guess = c;
  previewTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  previewTable_->horizontalHeader()->setSectionResizeMode(text_guess, QHeaderView::Stretch);
  textColumn_->addItems(headers);
  labelColumn_->addItems(headers);
  textColumn_->setCurrentIndex(text_guess);
  labelColumn_->setCurrentIndex(label_guess);
  readColumns();
}

void FineTunePage::setColumns(const QString& text, const QString& label) {
  textColumn_->setCurrentText(text);
  labelColumn_->setCurrentText(label);
  readColumns();
}

void FineTunePage::setEpochs(int epochs) { epochs_->setValue(epochs); }
void FineTunePage::setLearningRate(double rate) { learningRate_->setValue(rate); }

void FineTunePage::readColumns() {
  data_.reset();
  labels_->clear();
  showSkipped();
  if (!table_ || table_->columns.size() < 2 || table_->rows.empty()) return;  // reloadCsv said why
  if (textColumn_->currentIndex() == labelColumn_->currentIndex()) {
    message_->showError(tr("The text and the label are the same column (\"%1\"): choose a different one for each.")
                            .arg(textColumn_->currentText()));
    return;
  }
  try {
    data_ = labelled_examples(*table_, textColumn_->currentText().toStdString(), labelColumn_->currentText().toStdString(),
                              stopOnBad_->isChecked() ? BadRows::Stop : BadRows::Skip);
  } catch (const std::exception& e) {
    QString error = QString::fromUtf8(e.what());
    if (!table_->problems.empty())
      error += tr(" (%n row(s) of the file could not be read: they are listed below)", nullptr, int(table_->problems.size()));
    message_->showError(error);
    return;
  }
  message_->clearMessage();
  showSkipped();
  std::vector<int> counts(data_->labels.size(), 0);
  for (const Example& e : data_->examples) ++counts[size_t(e.label)];
  QStringList parts;
  for (size_t i = 0; i < counts.size(); ++i) parts << tr("%1 (%2)").arg(QString::fromStdString(data_->labels[i])).arg(counts[i]);
  QString text = tr("%n label(s): ", nullptr, int(counts.size())) + parts.join(QStringLiteral(", "));
  if (!data_->problems.empty()) text += tr("; %n row(s) without text or label skipped", nullptr, int(data_->problems.size()));
  labels_->setText(text);
  showLabelNames();
}

void FineTunePage::showLabelNames() {
  QHash<QString, QString> given;  // names typed for labels that are still there survive a change of columns
  for (int r = 0; r < labelNames_->rowCount(); ++r)
    if (labelNames_->item(r, 0) && labelNames_->item(r, 2)) given[labelNames_->item(r, 0)->text()] = labelNames_->item(r, 2)->text();
  labelNames_->setRowCount(0);
  labelNames_->setVisible(data_.has_value());
  if (!data_) return;
  std::vector<int> counts(data_->labels.size(), 0);
  for (const Example& e : data_->examples) ++counts[size_t(e.label)];
  labelNames_->setRowCount(int(data_->labels.size()));
  for (int r = 0; r < labelNames_->rowCount(); ++r) {
    const QString value = QString::fromStdString(data_->labels[size_t(r)]);
    auto* label = new QTableWidgetItem(value);
    label->setFlags(label->flags() & ~Qt::ItemIsEditable);
    auto* count = new QTableWidgetItem(QString::number(counts[size_t(r)]));
    count->setFlags(count->flags() & ~Qt::ItemIsEditable);
    count->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    labelNames_->setItem(r, 0, label);
    labelNames_->setItem(r, 1, count);
    labelNames_->setItem(r, 2, new QTableWidgetItem(given.value(value, value)));  // the file's value until renamed
  }
}

bool FineTunePage::setLabelName(int label, const QString& name) {
  if (label < 0 || label >= labelNames_->rowCount() || !labelNames_->item(label, 2)) return false;
  labelNames_->item(label, 2)->setText(name);
  return true;
}

QStringList FineTunePage::labelNamesChosen(QString* error) const {
  QStringList names;
  for (int r = 0; r < labelNames_->rowCount(); ++r) {
    const QString name = labelNames_->item(r, 2) ? labelNames_->item(r, 2)->text().trimmed() : QString();
    const QString value = labelNames_->item(r, 0) ? labelNames_->item(r, 0)->text() : QString();
    if (name.isEmpty()) {
      *error = tr("The label \"%1\" has no name: give every label a name (it becomes id2label in config.json).").arg(value);
      return {};
    }
    if (names.contains(name)) {
      *error = tr("Two labels are named \"%1\": each label needs its own name, or the saved model could not tell them apart.").arg(name);
      return {};
    }
    names << name;
  }
  return names;
}

void FineTunePage::showSkipped() {
  std::vector<CsvProblem> problems;
  if (table_) problems = table_->problems;
  if (data_) problems.insert(problems.end(), data_->problems.begin(), data_->problems.end());
  std::sort(problems.begin(), problems.end(), [](const CsvProblem& a, const CsvProblem& b) { return a.line < b.line; });
  QStringList lines{tr("Skipped rows (%1):").arg(problems.size())};
  constexpr size_t kShown = 200;
  for (size_t i = 0; i < problems.size() && i < kShown; ++i)
    lines << tr("line %1: %2").arg(problems[i].line).arg(QString::fromStdString(problems[i].message));
  if (problems.size() > kShown) lines << tr("… and %1 more").arg(problems.size() - kShown);
  skipped_->setPlainText(lines.join(QLatin1Char('\n')));
  skipped_->setVisible(!problems.empty());
}

void FineTunePage::setRunning(bool running) {
  start_->setEnabled(!running && model_);
  cancel_->setEnabled(running);
  for (QWidget* w : std::initializer_list<QWidget*>{epochs_, batch_, maxLength_, seed_, freeze_, learningRate_, validation_,
                                                     dropout_, textColumn_, labelColumn_, delimiter_, header_, stopOnBad_, choose_,
                                                     task_, labelNames_})
    w->setEnabled(!running);
  tagged_->setEditable(!running);
}

void FineTunePage::setTask(FineTuneTask task) {
  if (job_->running()) return;  // the run's task and data stay what is shown
  task_->setCurrentIndex(task_->findData(int(task)));
  dataPages_->setCurrentIndex(int(task));
  message_->clearMessage();
}

FineTuneTask FineTunePage::task() const { return FineTuneTask(task_->currentData().toInt()); }

bool FineTunePage::loadTaggedFile(const QString& path) {
  if (job_->running()) return false;
  setTask(FineTuneTask::TokenClassification);
  return tagged_->loadTraining(path);
}

bool FineTunePage::loadTaggedValidation(const QString& path) {
  if (job_->running()) return false;
  return tagged_->loadValidation(path);
}

QString FineTunePage::suggestedSaveFolder() const {
  // Beside the data the model learned from, not in the process's working folder (a source tree, or "/").
  const QString data = task() == FineTuneTask::TokenClassification ? tagged_->trainingPath() : path_->text();
  const QFileInfo file(data);
  const QDir dir = !data.isEmpty() && file.absoluteDir().exists() ? file.absoluteDir() : QDir::home();
  return fresh_folder(dir, QStringLiteral("fine-tuned-model"));
}

void FineTunePage::start() {
  if (job_->running() || (confirm_ && confirm_->isVisible())) return;  // one question at a time
  if (!model_) return message_->showError(tr("Load a model first."));
  if (task() == FineTuneTask::TokenClassification) return runTagger();
  // QA HOOK: a question-answering task starts its own run here.
  if (!data_) return message_->showError(tr("Choose a CSV file of labelled sentences and its text and label columns."));
  QString error;
  const QStringList names = labelNamesChosen(&error);
  if (!error.isEmpty()) return message_->showError(error);
  const Split split = stratified_split(data_->examples, int(data_->labels.size()), validation_->value(), uint32_t(seed_->value()));
  if (split.train.empty()) return message_->showError(tr("No sentences are left for training; lower the validation share."));
  const QStringList warnings = dataWarnings(split);
  if (warnings.isEmpty()) return run(split, names);
  // Non-blocking (open(), not exec()): the window stays alive while the user reads.
  confirm_ = new QMessageBox(QMessageBox::Warning, tr("Train on this data?"),
                             tr("This data may not train a useful classifier:\n\n• %1\n\nTrain anyway?")
                                 .arg(warnings.join(QStringLiteral("\n• "))),
                             QMessageBox::Yes | QMessageBox::No, this);
  confirm_->setObjectName(QStringLiteral("trainAnywayQuestion"));
  confirm_->setDefaultButton(QMessageBox::No);
  confirm_->setAttribute(Qt::WA_DeleteOnClose);
  QMessageBox* box = confirm_;
  connect(box, &QMessageBox::buttonClicked, this, [this, box, split, names](QAbstractButton* button) {
    if (box->standardButton(button) == QMessageBox::Yes) run(split, names);
    else message_->showNotice(tr("Not started. Add more sentences, or change the columns, the header or the validation share."));
  });
  confirm_->open();
}

QMessageBox* FineTunePage::confirmation() const { return confirm_.data(); }

QStringList FineTunePage::dataWarnings(const Split& split) const {
  constexpr size_t kTiny = 20;  // sentences to train on; real classifiers see hundreds per label
  QStringList warnings;
  const size_t n = split.train.size() + split.validation.size();
  if (split.train.size() < kTiny)
    warnings << tr("Only %n sentence(s) to train on: a classifier learns from many examples of each label "
                   "(hundreds, ideally).", nullptr, int(split.train.size()));
  std::vector<int> count(data_->labels.size(), 0), held_out(data_->labels.size(), 0), first_line(data_->labels.size(), 0);
  for (const Example& e : data_->examples) {
    if (count[size_t(e.label)]++ == 0) first_line[size_t(e.label)] = e.line;
  }
  for (const Example& e : split.validation) ++held_out[size_t(e.label)];
  for (size_t l = 0; l < count.size(); ++l) {
    const QString label = QString::fromStdString(data_->labels[l]);
    if (count[l] == 1)
      warnings << (first_line[l] == 1 ? tr("The label \"%1\" has one example, on line 1: is line 1 a header? Choose "
                                           "\"First row is a header\".").arg(label)
                                      : tr("The label \"%1\" has only one example (line %2).").arg(label).arg(first_line[l]));
  }
  if (validation_->value() > 0 && split.validation.empty())
    warnings << tr("No sentence is held out for validation (%1 in all): the validation chart and the confusion "
                   "matrix will stay empty.").arg(n);
  else if (!split.validation.empty()) {
    QStringList missing;
    for (size_t l = 0; l < count.size(); ++l)
      if (held_out[l] == 0) missing << QString::fromStdString(data_->labels[l]);
    if (!missing.isEmpty())
      warnings << tr("No validation sentence has the label(s) %1: accuracy and F1 say nothing about them.")
                      .arg(missing.join(QStringLiteral(", ")));
  }
  return warnings;
}

void FineTunePage::run(const Split& split, const QStringList& names) {
  if (job_->running() || !model_ || !data_) return;
  TrainingSetup setup;
  setup.task = FineTuneTask::SentenceClassification;
  for (const QString& name : names) setup.labels.push_back(name.toStdString());  // id2label: the names given
  setup.train = split.train;
  setup.validation = split.validation;
  startRun(std::move(setup));
}

void FineTunePage::runTagger() {
  TrainingSetup setup;
  setup.task = FineTuneTask::TokenClassification;
  QString error;
  if (!tagged_->split(validation_->value(), uint32_t(seed_->value()), setup.tagged_train, setup.tagged_validation,
                      setup.labels, error))
    return message_->showError(error);
  startRun(std::move(setup));
}

void FineTunePage::startRun(TrainingSetup setup) {
  if (job_->running() || !model_) return;
  setup.model = model_->info.folder;
  setup.backend = model_->backend;
  setup.options.epochs = epochs_->value();
  setup.options.batch_size = batch_->value();
  setup.options.max_length = std::min(maxLength_->value(), model_->max_tokens);
  setup.options.learning_rate = float(learningRate_->value());
  setup.options.seed = uint32_t(seed_->value());
  setup.frozen_layers = freeze_->value();
  setup.dropout = float(dropout_->value());
  trainedLabels_ = setup.labels;
  trainedTask_ = setup.task;
  const bool tokens = setup.task == FineTuneTask::TokenClassification;
  const bool entities = tokens && is_entity_tag_set(setup.labels);
  accuracy_->setName(tr("accuracy"));  // of words, for token classification (the status line says so)
  f1_->setName(!tokens ? tr("F1") : entities ? tr("entity F1") : tr("mean F1"));
  // Scores per type fill the table's width; a confusion matrix keeps square-ish cells.
  confusion_->horizontalHeader()->setSectionResizeMode(tokens ? QHeaderView::Stretch : QHeaderView::Interactive);
  details_->setTabText(0, tokens ? (entities ? tr("Scores per entity type") : tr("Scores per tag")) : tr("Confusion matrix"));
  details_->setTabText(1, tr("Misclassified"));
  mistakes_->setHeaders(tokens ? QStringList{tr("Sentence"), tr("Gold (wrong words)"), tr("Predicted")}
                               : QStringList{tr("Sentence"), tr("Gold"), tr("Predicted"), tr("Confidence")});
  // The try table shows probabilities per label (sentences) or a tag per word (tokens).
  tryTable_->setModel(tokens ? tryTags_ : tryResults_);
  auto* bars = tryTable_->findChild<ProbabilityDelegate*>();
  for (int column : {1, 2}) tryTable_->setItemDelegateForColumn(column, tokens ? nullptr : bars);
  tryText_->setPlaceholderText(tokens ? tr("Try a sentence on the fine-tuned model (words split at spaces)")
                                      : tr("Try a sentence on the fine-tuned model"));
  tryTags_->clear();
  loss_->clear();
  accuracy_->clear();
  f1_->clear();
  confusion_->clear();
  tryResults_->clear();
  save_->setEnabled(false);
  openSaved_->setEnabled(false);
  tryText_->setEnabled(false);
  progress_->setValue(0);
  progress_->setFormat(tr("starting…"));
  // Room right of the last epoch and around 0 and 1: the markers there are not cut in half.
  fit_axes(accuracyChart_, epochs_->value() + 0.4, -0.05, 1.05);
  const size_t train = tokens ? setup.tagged_train.size() : setup.train.size();
  const size_t held = tokens ? setup.tagged_validation.size() : setup.validation.size();
  message_->showNotice(tr("Fine-tuning %1 on %2 sentences (%3 held out for validation).")
                           .arg(QString::fromStdString(model_->info.folder.filename().string()))
                           .arg(train).arg(held));
  setRunning(true);
  job_->start(setup);
}

void FineTunePage::showMistakes(const QVector<Mistake>& mistakes) {
  QVector<QVector<QVariant>> rows;
  for (const Mistake& m : mistakes) {
    QVector<QVariant> row{m.text, m.gold, m.predicted};
    if (m.confidence >= 0) row << m.confidence;
    rows << row;
  }
  mistakes_->setRows(rows);
  details_->setTabText(1, tr("Misclassified (%1)").arg(mistakes.size()));
}

void FineTunePage::cancel() {
  if (!job_->running()) return;
  job_->cancel();
  progress_->setFormat(tr("cancelling…"));
}

void FineTunePage::showEpoch(const EpochResult& r) {
  if (trainedTask_ == FineTuneTask::TokenClassification) return showTaggingEpoch(r);
  if (r.validation.count == 0) return;
  accuracy_->append(r.epoch, r.validation.accuracy);
  f1_->append(r.epoch, r.validation.macro_f1);
  const int n = int(trainedLabels_.size());
  confusion_->setRowCount(n);
  confusion_->setColumnCount(n);
  QStringList names;
  for (const auto& l : trainedLabels_) names << QString::fromStdString(l);
  confusion_->setHorizontalHeaderLabels(names);
  confusion_->setVerticalHeaderLabels(names);
  for (int t = 0; t < n; ++t)
    for (int p = 0; p < n; ++p) {
      auto* item = new QTableWidgetItem(QString::number(r.validation.confusion[size_t(t)][size_t(p)]));
      item->setTextAlignment(Qt::AlignCenter);
      if (t == p) item->setBackground(QColor(213, 245, 227));
      confusion_->setItem(t, p, item);
    }
  status_->setText(tr("epoch %1: validation accuracy %2, F1 %3").arg(r.epoch).arg(r.validation.accuracy, 0, 'f', 4).arg(r.validation.macro_f1, 0, 'f', 4));
}

void FineTunePage::showTaggingEpoch(const EpochResult& r) {
  const TaggingReport& t = r.tagging;
  if (t.sentences == 0) return;
  // Entity tags: seqeval's entity F1 per type; other tags (parts of speech): F1 per tag, and their mean.
  const std::map<std::string, EntityScores>& per = t.entities ? t.seqeval.per_type : t.per_tag;
  double mean_f1 = 0;
  for (const auto& [name, scores] : per) mean_f1 += scores.f1 / double(per.size());
  const double f1 = t.entities ? t.seqeval.micro.f1 : mean_f1;
  accuracy_->append(r.epoch, t.seqeval.accuracy);
  f1_->append(r.epoch, f1);
  confusion_->clear();
  confusion_->setColumnCount(4);
  confusion_->setRowCount(int(per.size()));
  confusion_->setHorizontalHeaderLabels({tr("Precision"), tr("Recall"), tr("F1"), tr("Support")});
  QStringList names;
  int row = 0;
  for (const auto& [name, scores] : per) {
    names << QString::fromStdString(name);
    const double values[] = {scores.precision, scores.recall, scores.f1};
    for (int c = 0; c < 3; ++c) {
      auto* item = new QTableWidgetItem(QString::number(values[c], 'f', 3));
      item->setTextAlignment(Qt::AlignCenter);
      confusion_->setItem(row, c, item);
    }
    auto* support = new QTableWidgetItem(QString::number(scores.support));
    support->setTextAlignment(Qt::AlignCenter);
    confusion_->setItem(row++, 3, support);
  }
  confusion_->setVerticalHeaderLabels(names);
  status_->setText(t.entities ? tr("epoch %1: validation entity F1 %2, word accuracy %3").arg(r.epoch).arg(f1, 0, 'f', 4).arg(t.seqeval.accuracy, 0, 'f', 4)
                              : tr("epoch %1: validation word accuracy %2, mean F1 over tags %3").arg(r.epoch).arg(t.seqeval.accuracy, 0, 'f', 4).arg(f1, 0, 'f', 4));
}

void FineTunePage::trySentence(const QString& text) {
  if (tryText_->text() != text) {
    const QSignalBlocker quiet(tryText_);  // no second request through the debounce
    tryText_->setText(text);
  }
  if (!job_->hasModel() || text.trimmed().isEmpty()) return;
  job_->tryText(++tryId_, text);
}

void FineTunePage::saveTo(const QString& folder) {
  if (!job_->hasModel()) return message_->showError(tr("There is no fine-tuned model to save yet."));
  job_->save(folder);
}

}  // namespace bertscope::gui
