#include "fine_tune_page.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QValueAxis>
#include <set>

#include "item_models.h"
#include "page_support.h"

namespace bertscope::gui {

namespace {
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
  chart->legend()->setAlignment(Qt::AlignBottom);
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumHeight(200);
  return view;
}

void fit_axes(QChartView* view, double max_x, double min_y, double max_y) {
  auto* x = qobject_cast<QValueAxis*>(view->chart()->axes(Qt::Horizontal).first());
  x->setRange(0, std::max(1.0, max_x));
  x->setTickCount(max_x <= 10 ? int(max_x) + 1 : 5);  // whole numbers on short axes (epochs)
  view->chart()->axes(Qt::Vertical).first()->setRange(min_y, max_y);
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
  path_ = new QLineEdit(this);
  path_->setPlaceholderText(tr("A CSV or TSV file of labelled sentences"));
  path_->setReadOnly(true);
  auto* choose = new QPushButton(tr("Choose CSV…"), this);
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

  epochs_ = spin(1, 200, 3, this);
  batch_ = spin(1, 256, 16, this);
  maxLength_ = spin(8, 512, 128, this);
  seed_ = spin(0, 1000000, 0, this);
  freeze_ = spin(0, 0, 0, this);
  learningRate_ = dspin(1e-6, 1e-2, 5e-5, 6, 1e-5, this);
  validation_ = dspin(0.0, 0.5, 0.2, 2, 0.05, this);
  dropout_ = dspin(0.0, 0.5, 0.1, 2, 0.05, this);
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
  loss_ = new QLineSeries(this);
  loss_->setName(tr("training loss (smoothed)"));
  accuracy_ = new QLineSeries(this);
  accuracy_->setName(tr("accuracy"));
  f1_ = new QLineSeries(this);
  f1_->setName(tr("F1"));
  lossChart_ = chart_view(tr("Loss"), {loss_}, tr("step"), this);
  accuracyChart_ = chart_view(tr("Validation"), {accuracy_, f1_}, tr("epoch"), this);
  confusion_ = new QTableWidget(this);
  confusion_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  confusion_->setToolTip(tr("Rows: true label. Columns: predicted label."));
  tryText_ = new QLineEdit(this);
  tryText_->setPlaceholderText(tr("Try a sentence on the fine-tuned model"));
  tryText_->setEnabled(false);
  tryResults_ = new ResultTableModel({tr("Label"), tr("Fine-tuned"), tr("Before training")}, QList<int>{1, 2}, this);
  auto* tryTable = new QTableView(this);
  tryTable->setModel(tryResults_);
  tryTable->setItemDelegateForColumn(1, new ProbabilityDelegate(tryTable));
  tryTable->setItemDelegateForColumn(2, new ProbabilityDelegate(tryTable));
  tryTable->verticalHeader()->hide();
  tryTable->horizontalHeader()->setStretchLastSection(true);

  // Layout: data (left), settings and run (middle), results (right).
  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(path_, 1);
  fileRow->addWidget(choose);
  auto* parseRow = new QHBoxLayout;
  parseRow->addWidget(delimiter_);
  parseRow->addWidget(header_);
  parseRow->addWidget(stopOnBad_);
  parseRow->addStretch(1);
  auto* columns = new QFormLayout;
  columns->addRow(tr("Text column"), textColumn_);
  columns->addRow(tr("Label column"), labelColumn_);
  auto* dataBox = new QGroupBox(tr("Data"), this);
  auto* dataLayout = new QVBoxLayout(dataBox);
  dataLayout->addLayout(fileRow);
  dataLayout->addLayout(parseRow);
  dataLayout->addWidget(summary_);
  dataLayout->addWidget(previewTable, 1);
  dataLayout->addLayout(columns);
  dataLayout->addWidget(labels_);
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
  resultsLayout->addLayout(charts, 2);
  resultsLayout->addWidget(new QLabel(tr("Confusion matrix (validation, last epoch): rows true, columns predicted"), resultsBox));
  resultsLayout->addWidget(confusion_, 1);
  resultsLayout->addWidget(tryText_);
  resultsLayout->addWidget(tryTable, 1);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(dataBox);
  split->addWidget(runBox);
  split->addWidget(resultsBox);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  split->setStretchFactor(2, 4);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message_);
  layout->addWidget(split, 1);

  connect(choose, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Labelled sentences"), QString(), tr("CSV and TSV files (*.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty()) loadCsv(path);
  });
  connect(delimiter_, &QComboBox::activated, this, &FineTunePage::reloadCsv);
  connect(header_, &QComboBox::activated, this, &FineTunePage::reloadCsv);
  connect(stopOnBad_, &QCheckBox::toggled, this, &FineTunePage::reloadCsv);
  connect(textColumn_, &QComboBox::activated, this, &FineTunePage::readColumns);
  connect(labelColumn_, &QComboBox::activated, this, &FineTunePage::readColumns);
  connect(start_, &QPushButton::clicked, this, &FineTunePage::start);
  connect(cancel_, &QPushButton::clicked, this, &FineTunePage::cancel);
  connect(save_, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getSaveFileName(this, tr("Save the fine-tuned model as a folder"), QStringLiteral("fine-tuned-model"));
    if (!folder.isEmpty()) saveTo(folder);
  });
  connect(openSaved_, &QPushButton::clicked, this, [this] { emit openModelRequested(savedFolder_); });
  auto* tryDebounce = make_debounce(this, 200, [this] { trySentence(tryText_->text()); });
  connect(tryText_, &QLineEdit::textChanged, tryDebounce, qOverload<>(&QTimer::start));

  connect(job_, &TrainingJob::progress, this, [this](const TrainProgress& p) {
    progress_->setMaximum(p.total_steps);
    progress_->setValue(p.step);
    progress_->setFormat(tr("step %1 of %2 · epoch %3/%4 · %5 left").arg(p.step).arg(p.total_steps).arg(p.epoch).arg(p.epochs).arg(duration(p.eta_seconds)));
    status_->setText(tr("loss %1 · learning rate %2 · %3 sentences/s").arg(p.loss, 0, 'f', 4).arg(p.learning_rate, 0, 'g', 3).arg(p.sentences_per_second, 0, 'f', 1));
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
  if (!t.problems.empty()) {
    text += tr(" · %n row(s) skipped", nullptr, int(t.problems.size()));
    QStringList lines;
    for (size_t i = 0; i < t.problems.size() && i < 20; ++i)
      lines << tr("line %1: %2").arg(t.problems[i].line).arg(QString::fromStdString(t.problems[i].message));
    summary_->setToolTip(lines.join(QLatin1Char('\n')));
  }
  summary_->setText(text);
  // Guess the columns: the text has the longest values, the label the fewest distinct ones.
  int text_guess = 0, label_guess = headers.size() > 1 ? 1 : 0;
  double longest = -1;
  size_t fewest = SIZE_MAX;
  for (int c = 0; c < headers.size(); ++c) {
    double length = 0;
    std::set<std::string> distinct;
    for (size_t r = 0; r < t.rows.size() && r < 500; ++r) {
      length += double(t.rows[r][size_t(c)].size());
      distinct.insert(t.rows[r][size_t(c)]);
    }
    if (length > longest) longest = length, text_guess = c;
    if (distinct.size() < fewest && distinct.size() >= 2) fewest = distinct.size(), label_guess = c;
  }
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
  if (!table_ || table_->columns.empty()) return;
  try {
    data_ = labelled_examples(*table_, textColumn_->currentText().toStdString(), labelColumn_->currentText().toStdString(),
                              stopOnBad_->isChecked() ? BadRows::Stop : BadRows::Skip);
  } catch (const std::exception& e) {
    message_->showError(QString::fromUtf8(e.what()));
    return;
  }
  message_->clearMessage();
  std::vector<int> counts(data_->labels.size(), 0);
  for (const Example& e : data_->examples) ++counts[size_t(e.label)];
  QStringList parts;
  for (size_t i = 0; i < counts.size(); ++i) parts << tr("%1 (%2)").arg(QString::fromStdString(data_->labels[i])).arg(counts[i]);
  QString text = tr("%n label(s): ", nullptr, int(counts.size())) + parts.join(QStringLiteral(", "));
  if (!data_->problems.empty()) text += tr("; %n row(s) without text or label skipped", nullptr, int(data_->problems.size()));
  labels_->setText(text);
}

void FineTunePage::setRunning(bool running) {
  start_->setEnabled(!running && model_);
  cancel_->setEnabled(running);
  for (QWidget* w : std::initializer_list<QWidget*>{epochs_, batch_, maxLength_, seed_, freeze_, learningRate_, validation_,
                                                     dropout_, textColumn_, labelColumn_, delimiter_, header_, stopOnBad_})
    w->setEnabled(!running);
}

void FineTunePage::start() {
  if (job_->running()) return;
  if (!model_) return message_->showError(tr("Load a model first."));
  if (!data_) return message_->showError(tr("Choose a CSV file of labelled sentences and its text and label columns."));
  TrainingSetup setup;
  setup.model = model_->info.folder;
  setup.backend = model_->backend;
  setup.labels = data_->labels;
  const Split split = stratified_split(data_->examples, int(data_->labels.size()), validation_->value(), uint32_t(seed_->value()));
  if (split.train.empty()) return message_->showError(tr("No sentences are left for training; lower the validation share."));
  setup.train = split.train;
  setup.validation = split.validation;
  setup.options.epochs = epochs_->value();
  setup.options.batch_size = batch_->value();
  setup.options.max_length = std::min(maxLength_->value(), model_->max_tokens);
  setup.options.learning_rate = float(learningRate_->value());
  setup.options.seed = uint32_t(seed_->value());
  setup.frozen_layers = freeze_->value();
  setup.dropout = float(dropout_->value());
  trainedLabels_ = data_->labels;
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
  fit_axes(accuracyChart_, epochs_->value(), 0, 1);
  message_->showNotice(tr("Fine-tuning %1 on %2 sentences (%3 held out for validation).")
                           .arg(QString::fromStdString(model_->info.folder.filename().string()))
                           .arg(split.train.size()).arg(split.validation.size()));
  setRunning(true);
  job_->start(setup);
}

void FineTunePage::cancel() {
  if (!job_->running()) return;
  job_->cancel();
  progress_->setFormat(tr("cancelling…"));
}

void FineTunePage::showEpoch(const EpochResult& r) {
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
