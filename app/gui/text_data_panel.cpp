#include "text_data_panel.h"

#include "page_support.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QLocale>
#include <QPushButton>
#include <QStringDecoder>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"
#include "train/pretraining.h"

namespace bertscope::gui {

namespace {
// The non-blank lines of a text file, or an exception saying why the file cannot be used.
std::vector<std::string> read_paragraphs(const QString& path) {
  const QString name = QFileInfo(path).fileName();
  if (QFileInfo(path).isDir()) throw Error(QObject::tr("%1 is a folder; choose text files").arg(name).toStdString());
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    throw Error(QObject::tr("%1 cannot be opened: %2").arg(name, file.errorString()).toStdString());
  const QByteArray bytes = file.readAll();
  // A NUL byte or bytes that are not UTF-8: an image, an archive, a word-processor file, ... not plain text.
  QStringDecoder utf8(QStringDecoder::Utf8);
  const QString text = utf8.decode(bytes);
  if (bytes.contains('\0') || utf8.hasError())
    throw Error(QObject::tr("%1 is not a plain UTF-8 text file (it holds binary data); save it as plain text, one "
                            "paragraph a line").arg(name).toStdString());
  std::vector<std::string> lines;
  for (const QString& line : text.split(QLatin1Char('\n'))) {
    const QString paragraph = line.trimmed();  // a Windows file's \r too
    if (!paragraph.isEmpty()) lines.push_back(paragraph.toStdString());
  }
  if (lines.empty()) throw Error(QObject::tr("%1 is empty: it has no text (one paragraph a line)").arg(name).toStdString());
  return lines;
}

}  // namespace

TextDataPanel::TextDataPanel(QWidget* parent) : QWidget(parent) {
  files_ = new QListWidget(this);
  files_->setObjectName(QStringLiteral("textFiles"));
  files_->setMaximumHeight(90);
  chooseFiles_ = new QPushButton(tr("Choose files…"), this);
  runFolder_ = new QLineEdit(this);
  runFolder_->setObjectName(QStringLiteral("runFolder"));
  runFolder_->setPlaceholderText(tr("New folder beside the first text file"));
  runFolder_->setToolTip(tr("Checkpoints and the learning curve go here. A new or empty folder starts a run; the "
                            "folder of an earlier run resumes it where it stopped."));
  chooseFolder_ = new QPushButton(tr("Choose…"), this);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setText(tr("Plain text files (UTF-8), one paragraph a line. Pre-training continues from the open model "
                       "(masked-language modelling, as BERT was trained) to adapt it to your text."));

  auto* filesRow = new QHBoxLayout;
  filesRow->addWidget(files_, 1);
  filesRow->addWidget(chooseFiles_, 0, Qt::AlignTop);
  auto* folderRow = new QHBoxLayout;
  folderRow->addWidget(runFolder_, 1);
  folderRow->addWidget(chooseFolder_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(new QLabel(tr("Text files"), this));
  layout->addLayout(filesRow);
  layout->addWidget(new QLabel(tr("Run folder (checkpoints; resumes)"), this));
  layout->addLayout(folderRow);
  layout->addWidget(summary_);
  layout->addStretch(1);

  connect(chooseFiles_, &QPushButton::clicked, this, [this] {
    const QStringList paths = QFileDialog::getOpenFileNames(this, tr("Text to adapt the model to"), QString(),
                                                            tr("Text files (*.txt);;All files (*)"));
    if (!paths.isEmpty()) loadFiles(paths);
  });
  connect(chooseFolder_, &QPushButton::clicked, this, [this] {
    const QString start = paths_.isEmpty() ? QString() : QFileInfo(paths_.first()).absolutePath();
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Run folder: empty, or an earlier run"), start);
    if (!folder.isEmpty()) setRunFolder(folder);
  });
  connect(runFolder_, &QLineEdit::textEdited, this, [this](const QString& text) { runFolderChosen_ = !text.trimmed().isEmpty(); });
}

bool TextDataPanel::loadFiles(const QStringList& paths) {
  const QStringList paths_before = paths_;
  paths_.clear();
  paragraphs_.clear();
  words_ = 0;
  std::vector<std::string> all;
  try {
    if (paths.isEmpty()) throw Error(tr("Choose one or more text files.").toStdString());
    for (const QString& path : paths) {
      std::vector<std::string> lines = read_paragraphs(path);
      all.insert(all.end(), std::make_move_iterator(lines.begin()), std::make_move_iterator(lines.end()));
    }
  } catch (const std::exception& e) {
    showData();
    emit failed(QString::fromUtf8(e.what()));
    return false;
  }
  // A run folder Start named after the other files goes: the default follows these files (a folder the user chose stays).
  if (!runFolderChosen_ && paths != paths_before) runFolder_->clear();
  paths_ = paths;
  paragraphs_ = std::move(all);
  for (const std::string& p : paragraphs_)
    words_ += QString::fromStdString(p).split(QLatin1Char(' '), Qt::SkipEmptyParts).size();
  showData();
  return true;
}

QString TextDataPanel::summary() const { return summary_->text(); }

void TextDataPanel::showData() {
  files_->clear();
  for (const QString& path : paths_) files_->addItem(QFileInfo(path).fileName());
  if (!paths_.isEmpty()) files_->setToolTip(paths_.join(QLatin1Char('\n')));
  if (paragraphs_.empty()) summary_->clear();
  else
    summary_->setText(tr("%1 (%2) in %3; the validation share of the paragraphs is held out to measure masked-token "
                         "accuracy.")
                          .arg(counted(qint64(paragraphs_.size()), tr("paragraph"), tr("paragraphs")),
                               counted(words_, tr("word"), tr("words")), counted(paths_.size(), tr("file"), tr("files"))));
  emit changed();
}

bool TextDataPanel::split(double share, std::uint32_t seed, std::vector<std::string>& train,
                          std::vector<std::string>& heldout, QString& error) const {
  train.clear();
  heldout.clear();
  if (paragraphs_.empty()) {
    error = tr("Choose one or more text files (one paragraph a line) first.");
    return false;
  }
  const size_t n = paragraphs_.size();
  size_t held = std::min(n - 1, size_t(std::lround(share * double(n))));
  if (share > 0 && n >= 2) held = std::max<size_t>(held, 1);
  // Which lines are held out: the first `held` of a seeded shuffle; both parts keep the files' order.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  std::vector<bool> isHeld(n, false);
  for (size_t i = 0; i < held; ++i) isHeld[order[i]] = true;
  for (size_t i = 0; i < n; ++i) (isHeld[i] ? heldout : train).push_back(paragraphs_[i]);
  return true;
}

QString TextDataPanel::runFolder() const {
  if (!runFolder_->text().trimmed().isEmpty()) return runFolder_->text().trimmed();
  if (paths_.isEmpty()) return QString();
  const QFileInfo first(paths_.first());
  const QDir dir = first.absoluteDir();
  const QString base = first.completeBaseName() + QStringLiteral("-mlm-run");
  QString name = base;
  for (int n = 2; QFileInfo::exists(dir.filePath(name)); ++n) name = base + QLatin1Char('-') + QString::number(n);
  return dir.filePath(name);
}

void TextDataPanel::setRunFolder(const QString& folder) {
  runFolder_->setText(folder);
  runFolderChosen_ = !folder.trimmed().isEmpty();
}

void TextDataPanel::fillRunFolder(const QString& folder) {
  if (runFolder_->text().trimmed() != folder.trimmed()) runFolder_->setText(folder);  // else the user's choice stays theirs
}

QString TextDataPanel::runFolderProblem(const QString& folder) {
  if (folder.trimmed().isEmpty()) return tr("Choose a run folder.");
  const QFileInfo info(folder);
  if (info.exists() && !info.isDir()) return tr("%1 is a file, not a folder; choose a folder for the run.").arg(folder);
  // The nearest folder that exists must be one we can write in (the run's folder is made inside it).
  QFileInfo existing = info;
  while (!existing.exists() && existing.absoluteFilePath() != existing.absolutePath())
    existing = QFileInfo(existing.absolutePath());
  if (!existing.isDir())
    return tr("Cannot make the run folder %1: %2 is a file, not a folder.").arg(folder, existing.absoluteFilePath());
  if (!existing.isWritable())
    return tr("Cannot write in %1; choose a run folder you can write to.").arg(existing.absoluteFilePath());
  try {
    check_pretraining_run_folder(folder.toStdString());  // new, empty, or a run to resume: nothing of yours is touched
  } catch (const std::exception& e) {
    return QString::fromUtf8(e.what());
  }
  return QString();
}

void TextDataPanel::setEditable(bool editable) {
  for (QWidget* w : std::initializer_list<QWidget*>{chooseFiles_, chooseFolder_, runFolder_}) w->setEnabled(editable);
}

}  // namespace bertscope::gui
