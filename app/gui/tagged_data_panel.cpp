#include "tagged_data_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <map>
#include <random>

#include "page_support.h"
#include "train/token_fine_tune.h"

namespace bertscope::gui {

namespace {
QString file_filter() {
  return QObject::tr("CoNLL or JSON lines (*.conll *.txt *.tsv *.iob *.bio *.jsonl *.json);;All files (*)");
}
}  // namespace

TaggedDataPanel::TaggedDataPanel(QWidget* parent) : QWidget(parent) {
  trainPath_ = new QLineEdit(this);
  trainPath_->setReadOnly(true);
  trainPath_->setPlaceholderText(tr("Word-tagged sentences: CoNLL or JSON lines"));
  chooseTrain_ = new QPushButton(tr("Choose file…"), this);
  validationPath_ = new QLineEdit(this);
  validationPath_->setReadOnly(true);
  validationPath_->setPlaceholderText(tr("None: hold out the validation share"));
  chooseValidation_ = new QPushButton(tr("Choose…"), this);
  clearValidation_ = new QPushButton(tr("Clear"), this);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setText(tr("CoNLL: a word per line with its tag in the last column (B-PER, I-PER, O, or NOUN, VERB, ...), a "
                       "blank line between sentences. JSON lines: {\"tokens\": [...], \"ner_tags\": [...]}."));
  tags_ = new QTableWidget(0, 2, this);
  tags_->setObjectName(QStringLiteral("taggedLabels"));
  tags_->setHorizontalHeaderLabels({tr("Tag"), tr("Words")});
  tags_->horizontalHeader()->setStretchLastSection(true);
  tags_->verticalHeader()->hide();
  tags_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  tags_->setMinimumHeight(90);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(new QLabel(tr("Training sentences"), this));
  layout->addLayout(make_file_row(trainPath_, chooseTrain_));
  layout->addWidget(new QLabel(tr("Validation sentences (optional)"), this));
  layout->addLayout(make_file_row(validationPath_, chooseValidation_, clearValidation_));
  layout->addWidget(summary_);
  layout->addWidget(tags_, 1);

  connect(chooseTrain_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Word-tagged training sentences"), QString(), file_filter());
    if (!path.isEmpty()) loadTraining(path);
  });
  connect(chooseValidation_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileInfo(trainPath_->text()).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Word-tagged validation sentences"), dir, file_filter());
    if (!path.isEmpty()) loadValidation(path);
  });
  connect(clearValidation_, &QPushButton::clicked, this, [this] { loadValidation(QString()); });
}

bool TaggedDataPanel::loadTraining(const QString& path) {
  train_.reset();
  trainPath_->setText(path);
  try {
    train_ = read_tagged_file(path.toStdString());
  } catch (const std::exception& e) {
    showData();
    emit failed(QString::fromUtf8(e.what()));
    return false;
  }
  showData();
  warnOfUnknownValidationTags();
  return true;
}

bool TaggedDataPanel::loadValidation(const QString& path) {
  validation_.reset();
  validationPath_->setText(path);
  if (!path.isEmpty()) {
    try {
      validation_ = read_tagged_file(path.toStdString());
    } catch (const std::exception& e) {
      validationPath_->clear();  // back to holding out a share
      showData();
      emit failed(QString::fromUtf8(e.what()));
      return false;
    }
  }
  showData();
  warnOfUnknownValidationTags();
  return true;
}

// Said as soon as both files are in, not only at Start: a validation tag the training file lacks cannot be scored.
void TaggedDataPanel::warnOfUnknownValidationTags() {
  if (!train_ || !validation_) return;
  const std::string problem = first_unknown_tag(*validation_, train_->labels, validationPath_->text().toStdString());
  if (!problem.empty()) emit failed(QString::fromStdString(problem));
}

QString TaggedDataPanel::trainingPath() const { return train_ ? trainPath_->text() : QString(); }
QString TaggedDataPanel::validationPath() const { return validation_ ? validationPath_->text() : QString(); }

QString TaggedDataPanel::summary() const { return summary_->text(); }

void TaggedDataPanel::showData() {
  tags_->setRowCount(0);
  if (!train_) {
    summary_->clear();
    emit changed();
    return;
  }
  std::map<std::string, long long> words;
  long long total = 0;
  for (const TaggedSentence& s : train_->sentences)
    for (const std::string& tag : s.tags) ++words[tag], ++total;
  QString text = counted(qint64(train_->sentences.size()), tr("sentence"), tr("sentences")) + tr(", ") +
                 counted(total, tr("word"), tr("words")) + tr(", ") + counted(qint64(words.size()), tr("tag"), tr("tags"));
  if (train_->iob1_fixes)
    text += tr(" (IOB1: %1 that open an entity read as B-)").arg(counted(train_->iob1_fixes, tr("I- tag"), tr("I- tags")));
  text += validation_ ? tr("; validation: %1 from the file").arg(counted(qint64(validation_->sentences.size()), tr("sentence"), tr("sentences")))
                      : tr("; validation: the validation share of these sentences");
  const std::vector<std::string> tags = [&] {
    std::vector<std::string> all;
    for (const auto& [tag, count] : words) all.push_back(tag);
    return all;
  }();
  text += is_entity_tag_set(tags) ? tr(". Entity tags: validation scored by entity F1 (seqeval).")
                                  : tr(". Not entity tags: validation scored by word accuracy.");
  summary_->setText(text);
  tags_->setRowCount(int(words.size()));
  int row = 0;
  for (const auto& [tag, count] : words) {
    tags_->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(tag)));
    auto* n = new QTableWidgetItem(QString::number(count));
    n->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    tags_->setItem(row++, 1, n);
  }
  tags_->resizeColumnToContents(0);
  emit changed();
}

bool TaggedDataPanel::split(double share, std::uint32_t seed, std::vector<TaggedSentence>& train,
                            std::vector<TaggedSentence>& validation, std::vector<std::string>& labels, QString& error) const {
  if (!train_) {
    error = tr("Choose a file of word-tagged sentences (CoNLL or JSON lines) first.");
    return false;
  }
  train = train_->sentences;
  validation.clear();
  QString source = validationPath_->text();
  if (validation_) {
    validation = validation_->sentences;
  } else if (share > 0) {  // as `train --task ner --validation SHARE`: a seeded shuffle, the first share held out
    std::vector<size_t> order(train.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(seed));
    const size_t held = size_t(share * double(train.size()));
    std::vector<TaggedSentence> kept;
    for (size_t k = 0; k < order.size(); ++k) (k < held ? validation : kept).push_back(train[order[k]]);
    train = std::move(kept);
    source = trainPath_->text() + tr(" (held out)");
  }
  if (train.empty()) {
    error = tr("No sentences are left for training; lower the validation share.");
    return false;
  }
  labels = sorted_tag_labels(train);  // run_ner's order
  if (labels.size() < 2) {
    error = tr("Every training word has the tag \"%1\": a tagger needs two or more tags.").arg(QString::fromStdString(labels.front()));
    return false;
  }
  for (const TaggedSentence& s : validation)
    for (const std::string& tag : s.tags)
      if (!std::binary_search(labels.begin(), labels.end(), tag)) {
        error = tr("%1 line %2: the tag \"%3\" never occurs in the training sentences, so the model cannot learn it.")
                    .arg(source).arg(s.line).arg(QString::fromStdString(tag));
        return false;
      }
  return true;
}

void TaggedDataPanel::setEditable(bool editable) {
  for (QWidget* w : std::initializer_list<QWidget*>{chooseTrain_, chooseValidation_, clearValidation_}) w->setEnabled(editable);
}

}  // namespace bertscope::gui
