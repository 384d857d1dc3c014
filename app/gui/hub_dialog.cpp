#include "hub_dialog.h"

#include <QAction>
#include <QCompleter>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardItemModel>
#include <QVBoxLayout>

#include "cache_manager.h"
#include "core/read_file.h"
#include "hub/cache.h"
#include "hub/settings.h"
#include "hub_download.h"
#include "main_window.h"

namespace bertscope::gui {

namespace {

// Models worth trying, with the size of their weights on the Hub (safetensors), to know what a download costs.
struct Suggestion {
  const char* id;
  const char* size;
};
constexpr Suggestion kSuggestions[] = {
    {"bert-base-uncased", "≈ 440 MB"},
    {"bert-large-uncased", "≈ 1.34 GB"},
    {"distilbert-base-uncased-finetuned-sst-2-english", "≈ 268 MB"},
    {"distilbert-base-cased-distilled-squad", "≈ 261 MB"},
    {"dslim/bert-base-NER", "≈ 433 MB"},
    {"distilroberta-base", "≈ 331 MB"},
};

QString megabytes(double bytes) { return QString::number(bytes / 1e6, 'f', bytes < 1e7 ? 1 : 0); }

QString duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  if (s < 60) return QObject::tr("%1 s").arg(s);
  if (s < 3600) return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QObject::tr("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60);
}

HubDialog* dialogOf(MainWindow* window) {
  if (auto* open = window->findChild<HubDialog*>(QStringLiteral("hubDialog"))) return open;
  auto* dialog = new HubDialog(window);
  QObject::connect(dialog, &HubDialog::modelReady, window, &MainWindow::openModel);
  return dialog;
}

}  // namespace

HubDialog::HubDialog(QWidget* parent) : QDialog(parent) {
  setObjectName(QStringLiteral("hubDialog"));
  setWindowTitle(tr("Open from Hugging Face"));
  setModal(false);
  id_ = new QLineEdit(this);
  id_->setObjectName(QStringLiteral("hubModelId"));
  id_->setPlaceholderText(tr("bert-base-uncased, or org/name"));
  revision_ = new QLineEdit(QStringLiteral("main"), this);
  revision_->setObjectName(QStringLiteral("hubRevision"));
  revision_->setToolTip(tr("A branch, a tag or a commit id"));
  suggestions_ = new QListWidget(this);
  suggestions_->setObjectName(QStringLiteral("hubSuggestions"));
  bar_ = new QProgressBar(this);
  bar_->setObjectName(QStringLiteral("hubProgress"));
  bar_->setRange(0, 1000);
  bar_->setVisible(false);
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("hubStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  download_ = new QPushButton(tr("Download and open"), this);
  download_->setObjectName(QStringLiteral("hubDownload"));
  download_->setDefault(true);
  cancel_ = new QPushButton(tr("Cancel"), this);
  cancel_->setObjectName(QStringLiteral("hubCancel"));
  cancel_->setEnabled(false);
  auto* close = new QPushButton(tr("Close"), this);
  job_ = new HubDownload(this);

  auto* form = new QFormLayout;
  form->addRow(tr("Model id:"), id_);
  form->addRow(tr("Revision:"), revision_);
  auto* buttons = new QHBoxLayout;
  buttons->addStretch();
  buttons->addWidget(download_);
  buttons->addWidget(cancel_);
  buttons->addWidget(close);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(new QLabel(tr("In the cache, and models to try (double-click to open):"), this));
  layout->addWidget(suggestions_);
  layout->addWidget(bar_);
  layout->addWidget(status_);
  layout->addLayout(buttons);
  resize(560, 420);

  connect(download_, &QPushButton::clicked, this, &HubDialog::startDownload);
  connect(id_, &QLineEdit::returnPressed, this, &HubDialog::startDownload);
  connect(cancel_, &QPushButton::clicked, job_, &HubDownload::cancel);
  connect(close, &QPushButton::clicked, this, &QDialog::hide);  // a download goes on; the window shows the model
  connect(suggestions_, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) { id_->setText(item->data(Qt::UserRole).toString()); });
  connect(suggestions_, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) {
    id_->setText(item->data(Qt::UserRole).toString());
    startDownload();
  });
  connect(job_, &HubDownload::progress, this, &HubDialog::onProgress);
  connect(job_, &HubDownload::note, this, [this](const QString& text) { status_->setText(text); });
  connect(job_, &HubDownload::finished, this, [this](const QString& folder, const QString& id, const QString& revision) {
    setBusy(false);
    status_->setText(tr("%1 is in the cache: %2").arg(id, folder));
    refreshSuggestions();
    emit modelReady(hubArgument(id, revision));
    hide();
  });
  connect(job_, &HubDownload::failed, this, [this](const QString& message, bool cancelled) {
    setBusy(false);
    status_->setText(cancelled ? tr("Cancelled. What arrived is kept: downloading again resumes it.") : message);
    status_->setStyleSheet(cancelled ? QString() : QStringLiteral("color: #b00020;"));
  });
  refreshSuggestions();
}

void HubDialog::refreshSuggestions() {
  suggestions_->clear();
  auto* completions = new QStandardItemModel(this);
  auto add = [&](const QString& id, const QString& size) {
    auto* item = new QListWidgetItem(tr("%1  (%2)").arg(id, size), suggestions_);
    item->setData(Qt::UserRole, id);
    auto* completion = new QStandardItem(tr("%1  (%2)").arg(id, size));
    completion->setData(id, Qt::UserRole);  // what the completer matches and puts in the field
    completions->appendRow(completion);
  };
  QStringList cached;
  try {
    for (const auto& m : hub::HubCache(hub::hub_settings_from_environment().cache).list()) {
      const QString id = QString::fromStdString(m.id);
      add(id, tr("in the cache, %1").arg(QString::fromStdString(describe_bytes(m.bytes))));
      cached << id;
    }
  } catch (const std::exception&) {
    // an unreadable cache only costs the suggestions
  }
  for (const Suggestion& s : kSuggestions)
    if (!cached.contains(QString::fromUtf8(s.id))) add(QString::fromUtf8(s.id), tr("%1 download").arg(QString::fromUtf8(s.size)));
  auto* completer = new QCompleter(completions, id_);
  completer->setCompletionRole(Qt::UserRole);
  completer->setCaseSensitivity(Qt::CaseInsensitive);
  completer->setFilterMode(Qt::MatchContains);
  if (id_->completer()) id_->completer()->deleteLater();
  id_->setCompleter(completer);
}

void HubDialog::setModel(const QString& id, const QString& revision) {
  id_->setText(id);
  revision_->setText(revision.isEmpty() ? QStringLiteral("main") : revision);
}

void HubDialog::startDownload() {
  const QString id = id_->text().trimmed(), revision = revision_->text().trimmed();
  if (job_->running()) return;
  status_->setStyleSheet(QString());
  if (!parseHubArgument(hubArgument(id, revision)).valid()) {
    status_->setText(tr("'%1' is not a Hugging Face model id (name or org/name) with a revision name.").arg(id));
    status_->setStyleSheet(QStringLiteral("color: #b00020;"));
    return;
  }
  setBusy(true);
  status_->setText(tr("Asking the Hub about %1…").arg(id));
  job_->start(id, revision.isEmpty() ? QStringLiteral("main") : revision);
}

void HubDialog::setBusy(bool busy) {
  bar_->setVisible(busy);
  bar_->setValue(0);
  download_->setEnabled(!busy);
  cancel_->setEnabled(busy);
  id_->setReadOnly(busy);
  revision_->setReadOnly(busy);
}

void HubDialog::onProgress(qint64 done, qint64 total, double bytesPerSecond, double etaSeconds, const QString& file,
                           int filesDone, int fileCount) {
  bar_->setValue(total > 0 ? static_cast<int>(1000.0 * static_cast<double>(done) / static_cast<double>(total)) : 0);
  QString text = tr("%1 (file %2 of %3): %4 of %5 MB")
                     .arg(file)
                     .arg(std::min(filesDone + 1, fileCount))
                     .arg(fileCount)
                     .arg(megabytes(static_cast<double>(done)), megabytes(static_cast<double>(total)));
  if (bytesPerSecond > 0) text += tr(", %1 MB/s").arg(megabytes(bytesPerSecond));
  if (etaSeconds >= 0 && done < total) text += tr(", %1 left").arg(duration(etaSeconds));
  status_->setText(text);
}

void installHubActions(MainWindow* window) {
  auto* openHub = new QAction(QObject::tr("Open from &Hugging Face…"), window);
  openHub->setObjectName(QStringLiteral("openFromHub"));
  openHub->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  QObject::connect(openHub, &QAction::triggered, window, [window] {
    HubDialog* dialog = dialogOf(window);
    dialog->refreshSuggestions();
    dialog->show();
    dialog->raise();
    dialog->activateWindow();
  });
  auto* manage = new QAction(QObject::tr("Hugging Face &cache…"), window);
  manage->setObjectName(QStringLiteral("hubCacheManager"));
  QObject::connect(manage, &QAction::triggered, window, [window] {
    auto* manager = window->findChild<CacheManager*>(QStringLiteral("cacheManager"));
    if (!manager) {
      manager = new CacheManager(window);
      QObject::connect(manager, &CacheManager::openRequested, window, &MainWindow::openModel);
    }
    manager->refresh();
    manager->show();
    manager->raise();
  });
  // Into the File menu, after "Open model folder…"; a menu of their own if the window has no File menu.
  QMenu* file = nullptr;
  for (QAction* a : window->menuBar()->actions())
    if (a->menu() && a->text().remove(QLatin1Char('&')) == QObject::tr("File")) file = a->menu();
  if (!file) file = window->menuBar()->addMenu(QObject::tr("&Hugging Face"));
  QAction* after = nullptr;
  const QList<QAction*> actions = file->actions();
  for (qsizetype i = 0; i < actions.size(); ++i)
    if (actions[i]->objectName() == QLatin1String("openModel")) after = i + 1 < actions.size() ? actions[i + 1] : nullptr;
  file->insertActions(after, {openHub, manage});
}

bool offerHubDownload(MainWindow* window, const QString& model) {
  const HubArgument hub = parseHubArgument(model);
  if (!hub.valid()) return false;
  const hub::HubSettings settings = hub::hub_settings_from_environment();
  if (settings.offline) return false;  // the load says the model is not in the cache
  if (hub::HubCache(settings.cache).complete_snapshot(hub.id.toStdString(), hub.revision.toStdString())) return false;
  HubDialog* dialog = dialogOf(window);
  dialog->setModel(hub.id, hub.revision);
  dialog->show();
  dialog->startDownload();
  return true;
}

}  // namespace bertscope::gui
