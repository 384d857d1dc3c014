#include "csv_data_panel.h"

#include "page_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableView>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <set>

#include "item_models.h"

namespace bertscope::gui {

CsvDataPanel::CsvDataPanel(QWidget* parent) : QWidget(parent) {
  path_ = new QLineEdit(this);
  path_->setPlaceholderText(tr("A CSV or TSV file of labelled sentences"));
  path_->setReadOnly(true);
  choose_ = new QPushButton(tr("Choose file…"), this);  // CSV, TSV or text, as the other tasks' panels say
  choose_->setObjectName(QStringLiteral("chooseCsv"));
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
  previewTable_->setModel(preview_);
  previewTable_->verticalHeader()->hide();
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
  skipped_ = new QPlainTextEdit(this);
  skipped_->setReadOnly(true);
  skipped_->setObjectName(QStringLiteral("skippedRows"));
  skipped_->setMaximumHeight(90);
  skipped_->setStyleSheet(QStringLiteral("QPlainTextEdit { background: #fff8e1; }"));
  skipped_->hide();
  summary_->setWordWrap(true);
  previewTable_->setMinimumHeight(90);

  auto* fileRow = new QHBoxLayout;
  fileRow->addWidget(path_, 1);
  fileRow->addWidget(choose_);
  auto* parseRow = new QHBoxLayout;
  parseRow->addWidget(delimiter_);
  parseRow->addWidget(header_);
  parseRow->addStretch(1);
  auto* columns = new QFormLayout;
  columns->addRow(tr("Text column"), textColumn_);
  columns->addRow(tr("Label column"), labelColumn_);
  auto* dataLayout = new QVBoxLayout(this);
  dataLayout->setContentsMargins(0, 0, 0, 0);
  dataLayout->addLayout(fileRow);
  dataLayout->addLayout(parseRow);
  dataLayout->addWidget(stopOnBad_);
  dataLayout->addWidget(summary_);
  dataLayout->addWidget(previewTable_, 1);
  dataLayout->addWidget(skipped_);
  dataLayout->addLayout(columns);
  dataLayout->addWidget(labels_);
  dataLayout->addWidget(labelNames_);

  connect(choose_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Labelled sentences"), QString(), tr("CSV and TSV files (*.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty()) load(path);
  });
  connect(delimiter_, &QComboBox::activated, this, &CsvDataPanel::reload);
  connect(header_, &QComboBox::activated, this, &CsvDataPanel::reload);
  connect(stopOnBad_, &QCheckBox::toggled, this, &CsvDataPanel::reload);
  connect(textColumn_, &QComboBox::activated, this, &CsvDataPanel::readColumns);
  connect(labelColumn_, &QComboBox::activated, this, &CsvDataPanel::readColumns);
}

bool CsvDataPanel::load(const QString& path) {
  path_->setText(path);
  reload();
  return table_.has_value();
}

QString CsvDataPanel::path() const { return path_->text(); }
int CsvDataPanel::textColumn() const { return textColumn_->currentIndex(); }
int CsvDataPanel::labelColumn() const { return labelColumn_->currentIndex(); }

QString CsvDataPanel::summary() const { return summary_->text() + QLatin1Char(' ') + labels_->text(); }

void CsvDataPanel::setEditable(bool editable) {
  for (QWidget* w : std::initializer_list<QWidget*>{textColumn_, labelColumn_, delimiter_, header_, stopOnBad_, choose_, labelNames_})
    w->setEnabled(editable);
}

void CsvDataPanel::reload() {
  table_.reset();
  data_.reset();
  labelNames_->hide();  // no stale labels beside a file that failed; the names typed stay for showLabelNames
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
    emit failed(QString::fromUtf8(e.what()));
    return;
  }
  emit read();
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
  if (!t.problems.empty()) text += tr(" · %1 skipped (listed below)").arg(counted(qint64(t.problems.size()), tr("row"), tr("rows")));
  summary_->setText(text);
  showSkipped();
  if (t.columns.size() < 2) {  // not "the text and the label must be different columns"
    emit failed(tr("Only one column was found (reading the file as %1-separated): fine-tuning needs a text "
                           "column and a label column. Choose the delimiter%2.")
                            .arg(QString::fromStdString(delimiter_name(t.delimiter)),
                                 t.problems.empty() ? QString() : tr(", or fix the rows listed below")));
    return;
  }
  if (t.rows.empty()) {
    emit failed(tr("No row of the file could be read; the rows and why are listed below."));
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

void CsvDataPanel::setColumns(const QString& text, const QString& label) {
  textColumn_->setCurrentText(text);
  labelColumn_->setCurrentText(label);
  readColumns();
}

void CsvDataPanel::readColumns() {
  data_.reset();
  labelNames_->hide();  // shown again, names typed kept, once these columns read
  labels_->clear();
  showSkipped();
  if (!table_ || table_->columns.size() < 2 || table_->rows.empty()) return;  // reloadCsv said why
  if (textColumn_->currentIndex() == labelColumn_->currentIndex()) {
    emit failed(tr("The text and the label are the same column (\"%1\"): choose a different one for each.")
                            .arg(textColumn_->currentText()));
    return;
  }
  try {
    data_ = labelled_examples(*table_, textColumn_->currentText().toStdString(), labelColumn_->currentText().toStdString(),
                              stopOnBad_->isChecked() ? BadRows::Stop : BadRows::Skip);
  } catch (const std::exception& e) {
    QString error = QString::fromUtf8(e.what());
    if (!table_->problems.empty())
      error += tr(" (%1 of the file could not be read: they are listed below)").arg(counted(qint64(table_->problems.size()), tr("row"), tr("rows")));
    emit failed(error);
    return;
  }
  emit read();
  showSkipped();
  std::vector<int> counts(data_->labels.size(), 0);
  for (const Example& e : data_->examples) ++counts[size_t(e.label)];
  QStringList parts;
  for (size_t i = 0; i < counts.size(); ++i) parts << tr("%1 (%2)").arg(QString::fromStdString(data_->labels[i])).arg(counts[i]);
  QString text = counted(qint64(counts.size()), tr("label"), tr("labels")) + QStringLiteral(": ") + parts.join(QStringLiteral(", "));
  if (!data_->problems.empty()) text += tr("; %1 without text or label skipped").arg(counted(qint64(data_->problems.size()), tr("row"), tr("rows")));
  labels_->setText(text);
  showLabelNames();
}

void CsvDataPanel::showLabelNames() {
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

bool CsvDataPanel::setLabelName(int label, const QString& name) {
  if (label < 0 || label >= labelNames_->rowCount() || !labelNames_->item(label, 2)) return false;
  labelNames_->item(label, 2)->setText(name);
  return true;
}

QStringList CsvDataPanel::labelNamesChosen(QString* error) const {
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

void CsvDataPanel::showSkipped() {
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

QStringList CsvDataPanel::warnings(const Split& split, double validationShare) const {
  constexpr size_t kTiny = 20;  // sentences to train on; real classifiers see hundreds per label
  QStringList warnings;
  const size_t n = split.train.size() + split.validation.size();
  if (split.train.size() < kTiny)
    warnings << tr("Only %1 to train on: a classifier learns from many examples of each label (hundreds, ideally).")
                    .arg(counted(qint64(split.train.size()), tr("sentence"), tr("sentences")));
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
  if (validationShare > 0 && split.validation.empty())
    warnings << tr("No sentence is held out for validation (%1 in all): the validation chart and the confusion "
                   "matrix will stay empty.").arg(n);
  else if (!split.validation.empty()) {
    QStringList missing;
    for (size_t l = 0; l < count.size(); ++l)
      if (held_out[l] == 0) missing << QString::fromStdString(data_->labels[l]);
    if (!missing.isEmpty())
      warnings << (missing.size() == 1
                       ? tr("No validation sentence has the label %1: accuracy and F1 say nothing about it.")
                       : tr("No validation sentence has the labels %1: accuracy and F1 say nothing about them."))
                      .arg(missing.join(QStringLiteral(", ")));
  }
  return warnings;
}

}  // namespace bertscope::gui
