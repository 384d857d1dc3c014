#include "qa_data_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>
#include <set>

#include "page_support.h"

namespace bertscope::gui {

namespace {
QString file_filter() { return QObject::tr("SQuAD JSON or JSON lines (*.json *.jsonl);;All files (*)"); }

// "120 questions on 40 paragraphs, 12 unanswerable"
QString counts(const QaData& data) {
  std::set<std::string> paragraphs;
  int unanswerable = 0;
  for (const QaExample& e : data.examples) {
    paragraphs.insert(e.context);
    unanswerable += e.answers.empty();
  }
  return counted(qint64(data.examples.size()), QObject::tr("question"), QObject::tr("questions")) + QObject::tr(" on ") +
         counted(qint64(paragraphs.size()), QObject::tr("paragraph"), QObject::tr("paragraphs")) +
         QObject::tr(", %1 unanswerable").arg(unanswerable);
}
}  // namespace

QaOptions qa_training_options(int window) {
  QaOptions o;
  o.max_seq_len = window;
  o.doc_stride = 128;
  if (2 * o.doc_stride >= window) o.doc_stride = window / 3;  // run_qa's proportion, 128 of 384
  o.max_answer_len = 30;
  o.n_best = 20;
  return o;
}

QaDataPanel::QaDataPanel(QWidget* parent) : QWidget(parent) {
  trainPath_ = new QLineEdit(this);
  trainPath_->setReadOnly(true);
  trainPath_->setPlaceholderText(tr("SQuAD questions: JSON or JSON lines"));
  chooseTrain_ = new QPushButton(tr("Choose file…"), this);
  validationPath_ = new QLineEdit(this);
  validationPath_->setReadOnly(true);
  validationPath_->setPlaceholderText(tr("None: hold out the validation share"));
  chooseValidation_ = new QPushButton(tr("Choose…"), this);
  clearValidation_ = new QPushButton(tr("Clear"), this);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setText(tr("SQuAD v1.1 or v2.0 JSON (data → paragraphs → qas, with answers and is_impossible), or JSON "
                       "lines: {\"id\", \"question\", \"context\", \"answers\": {\"text\": [...], \"answer_start\": [...]}}."));
  skipped_ = new QPlainTextEdit(this);
  skipped_->setObjectName(QStringLiteral("skippedQuestions"));
  skipped_->setReadOnly(true);
  skipped_->setMaximumHeight(90);
  skipped_->setStyleSheet(QStringLiteral("QPlainTextEdit { background: #fff8e1; }"));
  skipped_->hide();

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(new QLabel(tr("Training questions"), this));
  layout->addLayout(make_file_row(trainPath_, chooseTrain_));
  layout->addWidget(new QLabel(tr("Validation questions (optional)"), this));
  layout->addLayout(make_file_row(validationPath_, chooseValidation_, clearValidation_));
  layout->addWidget(summary_);
  layout->addWidget(skipped_);
  layout->addStretch(1);

  connect(chooseTrain_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("SQuAD training questions"), QString(), file_filter());
    if (!path.isEmpty()) loadTraining(path);
  });
  connect(chooseValidation_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileInfo(trainPath_->text()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("SQuAD validation questions"), dir, file_filter());
    if (!path.isEmpty()) loadValidation(path);
  });
  connect(clearValidation_, &QPushButton::clicked, this, [this] { loadValidation(QString()); });
}

bool QaDataPanel::loadTraining(const QString& path) {
  train_.reset();
  trainPath_->setText(path);
  try {
    train_ = read_qa_file(path.toStdString());
  } catch (const std::exception& e) {
    showData();
    emit failed(QString::fromUtf8(e.what()));
    return false;
  }
  showData();
  return true;
}

bool QaDataPanel::loadValidation(const QString& path) {
  validation_.reset();
  validationPath_->setText(path);
  if (!path.isEmpty()) {
    try {
      validation_ = read_qa_file(path.toStdString());
    } catch (const std::exception& e) {
      validationPath_->clear();  // back to holding out a share
      showData();
      emit failed(QString::fromUtf8(e.what()));
      return false;
    }
  }
  showData();
  return true;
}

QString QaDataPanel::trainingPath() const { return train_ ? trainPath_->text() : QString(); }
QString QaDataPanel::validationPath() const { return validation_ ? validationPath_->text() : QString(); }

QString QaDataPanel::summary() const { return summary_->text(); }

void QaDataPanel::showData() {
  skipped_->clear();
  skipped_->hide();
  if (!train_) {
    summary_->clear();
    emit changed();
    return;
  }
  QString text = tr("Training: ") + counts(*train_);
  text += validation_ ? tr("; validation: ") + counts(*validation_) + tr(" from the file")
                      : tr("; validation: the validation share of these paragraphs");
  const bool v2 = train_->has_unanswerable || (validation_ && validation_->has_unanswerable);
  text += v2 ? tr(". Unanswerable questions: scored by SQuAD v2.0's rules (exact match and F1, with the no-answer "
                  "threshold).")
             : tr(". Scored by SQuAD v1.1's exact match and F1.");
  // The reader's skipped entries, by id with the reason, from both files.
  QStringList lines;
  constexpr int kShown = 200;
  int skipped = 0;
  for (const QaData* data : {&*train_, validation_ ? &*validation_ : nullptr}) {
    if (!data) continue;
    skipped += int(data->skipped.size());
    for (const std::string& entry : data->skipped)
      if (lines.size() < kShown) lines << QString::fromStdString(entry);
  }
  if (skipped > 0) {
    text += tr(" %1 skipped (listed below).").arg(counted(skipped, tr("entry"), tr("entries")));
    if (skipped > kShown) lines << tr("… and %1 more").arg(skipped - kShown);
    lines.prepend(tr("Skipped entries (%1):").arg(skipped));
    skipped_->setPlainText(lines.join(QLatin1Char('\n')));
    skipped_->show();
  }
  summary_->setText(text);
  emit changed();
}

bool QaDataPanel::split(double share, std::uint32_t seed, QaData& train, QaData& validation, QString& error) const {
  if (!train_) {
    error = tr("Choose a file of SQuAD questions (JSON or JSON lines) first.");
    return false;
  }
  train = *train_;
  validation = QaData();
  if (validation_) validation = *validation_;
  else if (share > 0) validation = hold_out_contexts(train, share, seed);
  if (train.examples.empty()) {
    error = tr("No questions are left for training; lower the validation share.");
    return false;
  }
  // As the CLI: SQuAD v2.0 rules (the null answer, HasAns/NoAns scores) when either file has unanswerable questions.
  validation.has_unanswerable = train_->has_unanswerable || validation.has_unanswerable;
  return true;
}

void QaDataPanel::setEditable(bool editable) {
  for (QWidget* w : std::initializer_list<QWidget*>{chooseTrain_, chooseValidation_, clearValidation_}) w->setEnabled(editable);
}

}  // namespace bertscope::gui
