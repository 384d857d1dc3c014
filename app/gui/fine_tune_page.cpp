#include "fine_tune_page.h"

#include <QAbstractButton>
#include <QChart>
#include <QChartView>
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
#include <cmath>

#include "csv_data_panel.h"
#include "fine_tune_charts.h"
#include "item_models.h"
#include "model_compare.h"
#include "page_support.h"
#include "qa_data_panel.h"
#include "qa_try_panel.h"
#include "tagged_data_panel.h"
#include "tagged_try_view.h"
#include "text_data_panel.h"
#include "train/training_defaults.h"

namespace bertscope::gui {

namespace {
// A name in `dir` that is not taken ("fine-tuned-model", else "fine-tuned-model-2", "-3", ...): saving never
// replaces a folder that exists (core/safe_files.h), so the name the Save dialog suggests must be free.
QString fresh_folder(const QDir& dir, const QString& base) {
  QString name = base;
  for (int n = 2; QFileInfo::exists(dir.filePath(name)); ++n) name = base + QLatin1Char('-') + QString::number(n);
  return dir.filePath(name);
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
  task_->addItem(tr("Question answering: SQuAD questions on paragraphs (JSON, JSON lines)"),
                 int(FineTuneTask::QuestionAnswering));
  task_->addItem(tr("Masked LM on my text"), int(FineTuneTask::MaskedLanguageModel));
  task_->setItemData(task_->count() - 1, tr("Adapt the model to your text files: continued pre-training, masked-language "
                                            "modelling as BERT was trained"), Qt::ToolTipRole);
  task_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);  // long names must not widen the page
  task_->setMinimumContentsLength(16);
  csv_ = new CsvDataPanel(this);
  tagged_ = new TaggedDataPanel(this);
  qa_ = new QaDataPanel(this);
  text_ = new TextDataPanel(this);

  epochs_ = spin(1, 200, 3, this);
  batch_ = spin(1, 256, 16, this);
  maxLength_ = spin(8, 512, 128, this);
  seed_ = spin(0, 1000000, 0, this);
  seed_->setObjectName(QStringLiteral("seed"));
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
  patience_ = spin(0, 100, 0, this);
  patience_->setObjectName(QStringLiteral("patience"));
  patience_->setSpecialValueText(tr("off"));
  hyper->addRow(tr("Patience"), patience_);  // early stopping's; the tooltip says what it does
  defaultsNote_ = new QLabel(this);
  defaultsNote_->setObjectName(QStringLiteral("defaultsNote"));
  defaultsNote_->setWordWrap(true);
  defaultsNote_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // a long note must not widen the page
  defaultsNote_->setStyleSheet(QStringLiteral("QLabel { color: palette(mid); }"));
  hyper->addRow(defaultsNote_);
  fittedEpochs_ = epochs_->value();  // the boxes' first values count as fitted: the first model replaces them
  fittedBatch_ = batch_->value();
  fittedRate_ = learningRate_->value();

  start_ = new QPushButton(tr("Start"), this);
  cancel_ = new QPushButton(tr("Cancel"), this);
  save_ = new QPushButton(tr("Save…"), this);
  openSaved_ = new QPushButton(tr("Open saved model"), this);
  exportScript_ = new QPushButton(tr("Export training script…"), this);
  exportScript_->setObjectName(QStringLiteral("exportTrainingScript"));
  exportScript_->setToolTip(tr("Write this job (task, model, data files, labels, hyper-parameters and seed) as a Python "
                               "script for Hugging Face's Trainer, to run it on a GPU machine or a cluster."));
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
  style_series(accuracy_, Qt::SolidLine, 3);
  style_series(f1_, Qt::DashLine, 2);
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
  tryTable->setMinimumHeight(80);
  tryTable->verticalHeader()->setDefaultSectionSize(tryTable->fontMetrics().height() + 8);

  // Layout: data (left), settings and run (middle), results (right).
  dataPages_ = new QStackedWidget(this);
  dataPages_->addWidget(csv_);  // index = FineTuneTask
  dataPages_->addWidget(tagged_);
  dataPages_->addWidget(qa_);
  dataPages_->addWidget(text_);
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
  runLayout->addWidget(exportScript_);
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
  tryEntities_ = new TaggedTryView(resultsBox);
  tryEntities_->hide();  // until a run on entity tags
  qaTry_ = new QaTryPanel(resultsBox);
  qaTry_->setEnabled(false);
  qaTry_->hide();  // until a question-answering run
  // Entity tags: the sentence highlighted beside its tag per word, not above it, so that a run's results fit a
  // 1024 x 700 window; the other tasks' try table has the row to itself.
  auto* tryRow = new QHBoxLayout;
  tryRow->addWidget(tryEntities_, 1, Qt::AlignTop);
  tryRow->addWidget(tryTable, 1);
  resultsLayout->addWidget(tryText_);
  resultsLayout->addLayout(tryRow, 1);
  resultsLayout->addWidget(qaTry_, 1);
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

  connect(task_, &QComboBox::activated, this, [this](int index) { setTask(FineTuneTask(task_->itemData(index).toInt())); });
  connect(csv_, &CsvDataPanel::failed, this, [this](const QString& error) {
    csvProblem_ = error;
    message_->showError(error);
  });
  connect(csv_, &CsvDataPanel::read, this, [this] {
    csvProblem_.clear();
    message_->clearMessage();
  });
  connect(tagged_, &TaggedDataPanel::failed, message_, &MessageLine::showError);
  connect(qa_, &QaDataPanel::failed, message_, &MessageLine::showError);
  connect(qa_, &QaDataPanel::changed, this, [this] {
    if (qa_->hasData()) message_->clearMessage();
  });
  connect(text_, &TextDataPanel::failed, message_, &MessageLine::showError);
  connect(text_, &TextDataPanel::changed, this, [this] {
    if (text_->hasData()) message_->clearMessage();
  });
  connect(job_, &TrainingJob::heldoutScored, this, &FineTunePage::showHeldout);
  connect(job_, &TrainingJob::runStopped, this, [this](const QString& folder, int step, int total) {
    runStopped_ = step < total ? tr("Stopped at step %1 of %2; the run's checkpoint is in %3, and Start resumes it "
                                    "from there. The model you started from is unchanged.").arg(step).arg(total).arg(folder)
                               : tr("The run (step %1) is in %2.").arg(step).arg(folder);
  });
  connect(qaTry_, &QaTryPanel::asked, this, &FineTunePage::tryQuestion);
  connect(job_, &TrainingJob::triedAnswer, this, [this](quint64 id, const TriedAnswer& after, const TriedAnswer& before) {
    if (id == tryId_) qaTry_->showAnswers(after, before);
  });
  connect(tagged_, &TaggedDataPanel::changed, this, [this] {
    if (tagged_->hasData()) message_->clearMessage();
  });
  connect(start_, &QPushButton::clicked, this, &FineTunePage::start);
  connect(cancel_, &QPushButton::clicked, this, &FineTunePage::cancel);
  connect(save_, &QPushButton::clicked, this, [this] {
    const QString folder = QFileDialog::getSaveFileName(this, tr("Save the fine-tuned model as a folder"), suggestedSaveFolder());
    if (!folder.isEmpty()) saveTo(folder);
  });
  connect(openSaved_, &QPushButton::clicked, this, [this] { emit openModelRequested(savedFolder_); });
  connect(exportScript_, &QPushButton::clicked, this, [this] {
    // Beside the data, like the Save folder; the dialog asks before replacing a file.
    const QString suggested = QFileInfo(suggestedSaveFolder()).dir().filePath(QStringLiteral("train.py"));
    const QString file = QFileDialog::getSaveFileName(this, tr("Export training script"), suggested,
                                                      tr("Python scripts (*.py)"));
    if (!file.isEmpty()) exportScript(file);
  });
  auto* tryDebounce = make_debounce(this, 200, [this] { trySentence(tryText_->text()); });
  connect(tryText_, &QLineEdit::textChanged, tryDebounce, qOverload<>(&QTimer::start));

  connect(job_, &TrainingJob::progress, this, [this](const TrainProgress& p) {
    progress_->setMaximum(p.total_steps);
    progress_->setValue(p.step);
    // The bar's text stays short (it does not wrap); the rest goes to the status line, which does.
    progress_->setFormat(tr("step %1 of %2").arg(p.step).arg(p.total_steps));
    const QString line = trainedTask_ == FineTuneTask::MaskedLanguageModel
                             ? tr("epoch %1/%2 · %3 left · loss %4 · learning rate %5 · %6 sequences/s")
                             : tr("epoch %1/%2 · %3 left · loss %4 · learning rate %5 · %6 sentences/s");
    status_->setText(line.arg(p.epoch).arg(p.epochs).arg(duration(p.eta_seconds)).arg(p.loss, 0, 'f', 4)
                         .arg(p.learning_rate, 0, 'g', 3).arg(p.sentences_per_second, 0, 'f', 1));
    // An exponential moving average of the batch losses (over every step, kept by the loop), as training dashboards
    // show them; the axis follows the running maximum.
    loss_->append(p.step, p.smoothed_loss);
    lossTop_ = std::max(lossTop_, p.smoothed_loss);
    fit_axes(lossChart_, p.total_steps, 0, lossTop_ * 1.1);
  });
  connect(job_, &TrainingJob::epochDone, this, &FineTunePage::showEpoch);
  connect(job_, &TrainingJob::keptEpoch, this, [this](int epoch, bool stoppedEarly, bool earlyStopping) {
    if (!earlyStopping) return;
    status_->setText(stoppedEarly ? tr("Stopped early: kept epoch %1's weights, the best validation score.").arg(epoch)
                                  : tr("Kept epoch %1's weights, the best validation score.").arg(epoch));
  });
  connect(job_, &TrainingJob::finished, this, [this](bool cancelled, const QString& error) {
    setRunning(false);
    unsavedModel_ = error.isEmpty() && !cancelled && job_->hasModel() && trainedTask_ != FineTuneTask::MaskedLanguageModel;
    fitDefaults();  // for the model open now, which another may have replaced during the run
    if (cancelled) status_->setText(tr("Cancelled."));  // not the last progress line's time left
    // The bar's text, else "starting…" or "cancelling…" stays after a run that never got going.
    if (!error.isEmpty()) progress_->setFormat(tr("failed"));
    else if (cancelled) progress_->setFormat(progress_->value() > 0 ? tr("cancelled at step %1 of %2").arg(progress_->value()).arg(progress_->maximum())
                                                                    : tr("cancelled"));
    const bool text = trainedTask_ == FineTuneTask::MaskedLanguageModel;
    if (!error.isEmpty()) message_->showError(tr("Training stopped: %1").arg(error));
    else if (text && cancelled) message_->showNotice(tr("Training cancelled. %1").arg(runStopped_));
    else if (text) {
      const QString scores = heldoutBefore_ && heldoutLast_
                                 ? tr(" Held-out top-1 accuracy %1 → %2, top-5 %3 → %4.")
                                       .arg(heldoutBefore_->top1, 0, 'f', 3).arg(heldoutLast_->top1, 0, 'f', 3)
                                       .arg(heldoutBefore_->top5, 0, 'f', 3).arg(heldoutLast_->top5, 0, 'f', 3)
                                 : QString();
      message_->showNotice(tr("Adapted to your text.%1 Compare it with the model before adapting in the Fill-mask "
                              "view, or save it. %2%3").arg(scores, runStopped_, lastEpochNote()));
    } else if (cancelled) message_->showNotice(tr("Training cancelled. Nothing was saved; the model you started from is unchanged."));
    else if (trainedTask_ == FineTuneTask::QuestionAnswering)
      message_->showNotice(tr("Training finished. Try a question below, or save the model."));
    else
      message_->showNotice(tr("Training finished. Try sentences below, or save the model."));
    save_->setEnabled(job_->hasModel());
    tryText_->setEnabled(job_->hasModel());
    qaTry_->setEnabled(job_->hasModel());
    if (job_->hasModel() && trainedTask_ == FineTuneTask::QuestionAnswering) tryQuestion(qaTry_->question(), qaTry_->context());
    else if (job_->hasModel() && !tryText_->text().isEmpty()) trySentence(tryText_->text());
  });
  connect(job_, &TrainingJob::mistakesFound, this, &FineTunePage::showMistakes);
  connect(job_, &TrainingJob::triedTags, this, [this](quint64 id, const QStringList& words, const QStringList& after,
                                                      const QStringList& before) {
    if (id != tryId_) return;
    QVector<QVector<QVariant>> rows;
    for (int i = 0; i < words.size(); ++i) rows.push_back({words[i], after.value(i), before.value(i)});
    tryTags_->setRows(rows);
    if (tryEntities_->isVisibleTo(this)) tryEntities_->showTags(triedText_, words, after, before);
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
    unsavedModel_ = false;
    openSaved_->setEnabled(true);
    message_->showNotice(tr("Saved to %1 (Hugging Face layout).").arg(folder));
  });
  setModel(nullptr);
  setRunning(false);  // the boxes and tooltips of the first task
  showResultsLayout(task(), {});
}

void FineTunePage::setModel(const Ptr<LoadedModel>& model) {
  const bool changed = model != model_;
  model_ = model;
  start_->setEnabled(model && !job_->running());
  if (job_->running()) return;  // the run's settings and results stay as they are; the new model's come after it
  freeze_->setMaximum(model ? model->info.layers : 0);
  if (changed) clearResults();
  fitDefaults();
}

// A run's results belong to the model and task it ran on: when either changes, they go, with Save and the try boxes.
void FineTunePage::clearResults() {
  loss_->clear();
  accuracy_->clear();
  f1_->clear();
  confusion_->clear();
  confusion_->setRowCount(0);
  confusion_->setColumnCount(0);
  mistakes_->setRows({});
  tryResults_->clear();
  tryTags_->clear();
  qaTry_->clear();
  tryEntities_->clear();
  heldoutBefore_.reset();
  heldoutLast_.reset();
  heldoutBest_.reset();
  runStopped_.clear();
  save_->setEnabled(false);
  openSaved_->setEnabled(false);
  tryText_->setEnabled(false);
  qaTry_->setEnabled(false);
  progress_->setValue(0);
  progress_->setFormat(tr("not started"));
  status_->clear();
  showResultsLayout(task(), {});  // the chosen task's results, before its first Start too
}

void FineTunePage::fitDefaults() {
  if (!model_) return defaultsNote_->clear();
  ModelShape shape;
  shape.parameters = model_->info.parameters;
  shape.hidden = model_->info.hidden;
  shape.layers = model_->info.layers;
  shape.untrained = model_->info.untrained;
  // Does the checkpoint already have this task's head? (The run itself also compares the labels.)
  shape.pretrained_head = task() == FineTuneTask::SentenceClassification ? model_->classifier
                          : task() == FineTuneTask::TokenClassification  ? model_->token_classifier
                          : task() == FineTuneTask::QuestionAnswering    ? model_->qa
                                                                         : model_->mlm;
  const TrainingDefaults fitted = training_defaults(shape);
  if (epochs_->value() == fittedEpochs_) epochs_->setValue(fitted.epochs);
  if (batch_->value() == fittedBatch_) batch_->setValue(fitted.batch_size);
  const double rounding = 0.5 * std::pow(10.0, -learningRate_->decimals());  // what the box keeps of a rate
  if (std::abs(learningRate_->value() - fittedRate_) < rounding) learningRate_->setValue(fitted.learning_rate);
  fittedEpochs_ = fitted.epochs;
  fittedBatch_ = fitted.batch_size;
  fittedRate_ = fitted.learning_rate;
  // Short under the boxes (the column is narrow); the whole rule's reason in the tooltip.
  defaultsNote_->setText(tr("Defaults for this %1-parameter model: %2 epochs, learning rate %3.")
                             .arg(QString::fromStdString(parameter_count_text(shape.parameters)))
                             .arg(fitted.epochs)
                             .arg(QString::fromStdString(learning_rate_text(fitted.learning_rate))));
  defaultsNote_->setToolTip(tr("Defaults for %1. Values you change are kept.")
                                .arg(QString::fromStdString(describe_defaults(shape, fitted))));
}

double FineTunePage::learningRate() const { return learningRate_->value(); }
int FineTunePage::epochs() const { return epochs_->value(); }
void FineTunePage::setPatience(int epochs) { patience_->setValue(epochs); }

QString FineTunePage::dataSummary() const { return csv_->summary(); }
QTableWidget* FineTunePage::labelNames() const { return csv_->labelNames(); }
ResultTableModel* FineTunePage::preview() const { return csv_->preview(); }
QPlainTextEdit* FineTunePage::skippedRows() const { return csv_->skippedRows(); }

bool FineTunePage::loadCsv(const QString& path) {
  if (job_->running()) return false;  // the run's data stays the data shown (Choose file… is disabled too)
  setTask(FineTuneTask::SentenceClassification);
  return csv_->load(path);
}

void FineTunePage::setColumns(const QString& text, const QString& label) { csv_->setColumns(text, label); }

void FineTunePage::setEpochs(int epochs) { epochs_->setValue(epochs); }
void FineTunePage::setMaxLength(int tokens) { maxLength_->setValue(tokens); }

bool FineTunePage::loadTextFiles(const QStringList& paths) {
  if (job_->running()) return false;
  setTask(FineTuneTask::MaskedLanguageModel);
  return text_->loadFiles(paths);
}
void FineTunePage::setLearningRate(double rate) { learningRate_->setValue(rate); }

bool FineTunePage::setLabelName(int label, const QString& name) { return csv_->setLabelName(label, name); }

void FineTunePage::setRunning(bool running) {
  start_->setEnabled(!running && model_);
  cancel_->setEnabled(running);
  for (QWidget* w : std::initializer_list<QWidget*>{epochs_, batch_, maxLength_, seed_, freeze_, learningRate_, patience_, validation_,
                                                     dropout_, task_})
    w->setEnabled(!running);
  // Continued pre-training trains every layer, and its run keeps one checkpoint (the latest): no best epoch to keep.
  const bool text = task() == FineTuneTask::MaskedLanguageModel;
  freeze_->setEnabled(!running && !text);
  patience_->setEnabled(!running && !text);
  patience_->setToolTip(text ? tr("Not for masked LM: its run keeps one checkpoint, the latest, so Save stores the last "
                                  "epoch. The held-out table shows each epoch's scores.")
                             : tr("Early stopping: stop after this many epochs without a better validation score "
                                  "(accuracy; entity F1 for named entities; F1 for questions), and keep the best epoch's "
                                  "weights."));
  csv_->setEditable(!running);
  tagged_->setEditable(!running);
  qa_->setEditable(!running);
  text_->setEditable(!running);
}

void FineTunePage::setTask(FineTuneTask task) {
  if (job_->running()) return;  // the run's task and data stay what is shown
  const bool changed = int(task) != dataPages_->currentIndex();  // the page shown is the task before this one
  task_->setCurrentIndex(task_->findData(int(task)));
  dataPages_->setCurrentIndex(int(task));
  if (changed) clearResults();
  setRunning(false);  // the boxes that apply to this task
  message_->clearMessage();
  fitDefaults();  // a head the checkpoint has for one task may be new for another
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

bool FineTunePage::loadQaFile(const QString& path) {
  if (job_->running()) return false;
  setTask(FineTuneTask::QuestionAnswering);
  return qa_->loadTraining(path);
}

bool FineTunePage::loadQaValidation(const QString& path) {
  if (job_->running()) return false;
  return qa_->loadValidation(path);
}

QString FineTunePage::suggestedSaveFolder() const {
  // Beside the data the model learned from, not in the process's working folder (a source tree, or "/").
  const QString data = task() == FineTuneTask::TokenClassification ? tagged_->trainingPath()
                       : task() == FineTuneTask::QuestionAnswering ? qa_->trainingPath()
                       : task() == FineTuneTask::MaskedLanguageModel ? text_->paths().value(0)
                                                                    : csv_->path();
  const QFileInfo file(data);
  const QDir dir = !data.isEmpty() && file.absoluteDir().exists() ? file.absoluteDir() : QDir::home();
  return fresh_folder(dir, task() == FineTuneTask::MaskedLanguageModel ? QStringLiteral("adapted-model")
                                                                       : QStringLiteral("fine-tuned-model"));
}

void FineTunePage::start() {
  if (job_->running() || (confirm_ && confirm_->isVisible())) return;  // one question at a time
  if (!model_) return message_->showError(tr("Load a model first."));
  if (task() == FineTuneTask::TokenClassification) return runTagger();
  if (task() == FineTuneTask::QuestionAnswering) return runQa();
  if (task() == FineTuneTask::MaskedLanguageModel) return runText();
  const LabelledData* data = csv_->data();
  // Start on a file that failed to load repeats why, rather than a vaguer "choose a file".
  if (!data) return message_->showError(!csvProblem_.isEmpty() ? csvProblem_
                                                                : tr("Choose a CSV file of labelled sentences and its "
                                                                     "text and label columns."));
  QString error;
  const QStringList names = csv_->labelNamesChosen(&error);
  if (!error.isEmpty()) return message_->showError(error);
  const Split split = stratified_split(data->examples, int(data->labels.size()), validation_->value(), uint32_t(seed_->value()));
  if (split.train.empty()) return message_->showError(tr("No sentences are left for training; lower the validation share."));
  const QStringList warnings = csv_->warnings(split, validation_->value());
  if (warnings.isEmpty()) return run(split, names);
  confirm_ = ask(this, QMessageBox::Warning, tr("Train on this data?"),
                 tr("This data may not train a useful classifier:\n\n• %1\n\nTrain anyway?")
                     .arg(warnings.join(QStringLiteral("\n• "))),
                 QMessageBox::Yes | QMessageBox::No, QMessageBox::No, QStringLiteral("trainAnywayQuestion"),
                 [this, split, names](QMessageBox::StandardButton answer) {
                   if (answer == QMessageBox::Yes) run(split, names);
                   else message_->showNotice(tr("Not started. Add more sentences, or change the columns, the header or "
                                                "the validation share."));
                 });
}

// A new run replaces the fine-tuned model in memory; one not yet saved is the user's work, so ask first (once the
// data has passed its checks: a run that would not start discards nothing).
void FineTunePage::askToDiscardUnsavedModel(TrainingSetup setup) {
  confirm_ = ask(this, QMessageBox::Question, tr("Discard the fine-tuned model?"),
                 tr("The model you fine-tuned last has not been saved, and a new run replaces it.\n\n"
                    "Discard it and start the new run?"),
                 QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Cancel, QStringLiteral("discardUnsavedQuestion"),
                 [this, setup = std::move(setup)](QMessageBox::StandardButton answer) {
                   if (answer != QMessageBox::Discard)
                     return message_->showNotice(tr("Not started. Save the fine-tuned model first (Save…), or start "
                                                    "again and discard it."));
                   unsavedModel_ = false;
                   startRun(setup);
                 });
}

QMessageBox* FineTunePage::confirmation() const { return confirm_.data(); }

void FineTunePage::run(const Split& split, const QStringList& names) {
  if (job_->running() || !model_ || !csv_->data()) return;
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

void FineTunePage::runQa() {
  TrainingSetup setup;
  setup.task = FineTuneTask::QuestionAnswering;
  QString error;
  if (!qa_->split(validation_->value(), uint32_t(seed_->value()), setup.qa_train, setup.qa_validation, error))
    return message_->showError(error);
  startRun(std::move(setup));
}

void FineTunePage::runText() {
  if (!model_->mlm)
    return message_->showError(tr("Adapting to your text needs a model with its masked-language-model head (e.g. "
                                  "BertForMaskedLM); this one is a %1. Open a masked-LM model first.")
                                   .arg(QString::fromStdString(model_->info.architecture)));
  TrainingSetup setup;
  setup.task = FineTuneTask::MaskedLanguageModel;
  QString error;
  if (!text_->split(validation_->value(), uint32_t(seed_->value()), setup.text_train, setup.text_heldout, error))
    return message_->showError(error);
  const QString folder = text_->runFolder();
  if (const QString problem = TextDataPanel::runFolderProblem(folder); !problem.isEmpty()) return message_->showError(problem);
  text_->fillRunFolder(folder);  // shown, and kept: Start again resumes this run (until other files are chosen)
  setup.run_folder = folder.toStdString();
  startRun(std::move(setup));
}

void FineTunePage::startRun(TrainingSetup setup) {
  if (job_->running() || !model_) return;
  if (unsavedModel_) return askToDiscardUnsavedModel(std::move(setup));
  setup.model = model_->info.folder;
  setup.backend = model_->backend;
  setup.options.epochs = epochs_->value();
  setup.options.batch_size = batch_->value();
  setup.options.max_length = std::min(maxLength_->value(), model_->max_tokens);
  setup.options.learning_rate = float(learningRate_->value());
  setup.options.patience = patience_->value();
  {
    const TrainingDefaults fitted = training_defaults({});  // warm-up and weight decay: the same for every size
    setup.options.warmup_ratio = fitted.warmup_ratio;
    setup.options.weight_decay = fitted.weight_decay;
  }
  setup.options.seed = uint32_t(seed_->value());
  setup.frozen_layers = freeze_->value();
  setup.dropout = float(dropout_->value());
  trainedLabels_ = setup.labels;
  trainedTask_ = setup.task;
  const bool tokens = setup.task == FineTuneTask::TokenClassification;
  const bool qa = setup.task == FineTuneTask::QuestionAnswering;
  const bool text = setup.task == FineTuneTask::MaskedLanguageModel;
  if (qa) setup.qa = qa_training_options(setup.options.max_length);
  showResultsLayout(setup.task, setup.labels);
  loss_->clear();
  lossTop_ = 0.1;
  accuracy_->clear();
  f1_->clear();
  heldoutBefore_.reset();
  heldoutLast_.reset();
  heldoutBest_.reset();
  runStopped_.clear();
  tryResults_->clear();
  save_->setEnabled(false);
  openSaved_->setEnabled(false);
  tryText_->setEnabled(false);
  progress_->setValue(0);
  progress_->setFormat(tr("starting…"));
  // Room right of the last epoch and around 0 and 1 (SQuAD's percent: 0 and 100): the markers there are not cut.
  if (qa) fit_axes(accuracyChart_, epochs_->value() + 0.4, -5, 105);
  else fit_axes(accuracyChart_, epochs_->value() + 0.4, -0.05, 1.05);
  if (text) {
    message_->showNotice(tr("Adapting %1 to %2 paragraphs (%3 held out to measure masked-token accuracy); the run is "
                            "in %4.")
                             .arg(model_name(*model_))
                             .arg(setup.text_train.size()).arg(setup.text_heldout.size())
                             .arg(QString::fromStdString(setup.run_folder.string())));
    setRunning(true);
    job_->start(setup);
    return;
  }
  const size_t train = qa ? setup.qa_train.examples.size() : tokens ? setup.tagged_train.size() : setup.train.size();
  const size_t held = qa ? setup.qa_validation.examples.size() : tokens ? setup.tagged_validation.size() : setup.validation.size();
  message_->showNotice((qa ? tr("Fine-tuning %1 on %2 questions (%3 held out for validation).")
                           : tr("Fine-tuning %1 on %2 sentences (%3 held out for validation)."))
                           .arg(model_name(*model_))
                           .arg(train).arg(held));
  setRunning(true);
  job_->start(setup);
}

void FineTunePage::cancel() {
  if (!job_->running()) return;
  job_->cancel();
  progress_->setFormat(tr("cancelling…"));
}

void FineTunePage::tryQuestion(const QString& question, const QString& context) {
  if (qaTry_->question() != question || qaTry_->context() != context) return qaTry_->setQuestion(question, context);
  if (!job_->hasModel() || trainedTask_ != FineTuneTask::QuestionAnswering) return;
  if (question.trimmed().isEmpty() || context.trimmed().isEmpty()) return;
  job_->tryQuestion(++tryId_, question, context);
}

void FineTunePage::trySentence(const QString& text) {
  if (tryText_->text() != text) {
    const QSignalBlocker quiet(tryText_);  // no second request through the debounce
    tryText_->setText(text);
  }
  if (!job_->hasModel() || text.trimmed().isEmpty()) return;
  triedText_ = text;
  job_->tryText(++tryId_, text);
}

void FineTunePage::saveTo(const QString& folder) {
  if (!job_->hasModel()) return message_->showError(tr("There is no fine-tuned model to save yet."));
  job_->save(folder);
}

}  // namespace bertscope::gui
