#include "cache_manager.h"

#include "page_support.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/read_file.h"
#include "hub/cache.h"
#include "hub/settings.h"
#include "hub_download.h"

namespace bertscope::gui {

namespace {
enum Column { kModel, kSize, kRevisions, kState, kFolder, kColumns };
}

CacheManager::CacheManager(QWidget* parent) : QDialog(parent) {
  setObjectName(QStringLiteral("cacheManager"));
  setWindowTitle(tr("Hugging Face cache"));
  setModal(false);
  table_ = new QTableWidget(0, kColumns, this);
  table_->setObjectName(QStringLiteral("cacheTable"));
  table_->setHorizontalHeaderLabels({tr("Model"), tr("Size"), tr("Revisions"), tr("State"), tr("Folder")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("cacheStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  open_ = new QPushButton(tr("Open"), this);
  open_->setObjectName(QStringLiteral("cacheOpen"));
  delete_ = new QPushButton(tr("Delete…"), this);
  delete_->setObjectName(QStringLiteral("cacheDelete"));
  auto* refreshButton = new QPushButton(tr("Refresh"), this);
  auto* close = new QPushButton(tr("Close"), this);

  auto* buttons = new QHBoxLayout;
  buttons->addWidget(open_);
  buttons->addWidget(delete_);
  buttons->addStretch();
  buttons->addWidget(refreshButton);
  buttons->addWidget(close);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(table_);
  layout->addWidget(status_);
  layout->addLayout(buttons);
  resize(760, 360);

  auto openSelected = [this] {
    if (!selectedId().isEmpty()) emit openRequested(selectedId());
  };
  connect(open_, &QPushButton::clicked, this, openSelected);
  connect(table_, &QTableWidget::cellDoubleClicked, this, openSelected);
  connect(delete_, &QPushButton::clicked, this, [this] {
    if (!selectedId().isEmpty()) removeModel(selectedId());
  });
  connect(refreshButton, &QPushButton::clicked, this, &CacheManager::refresh);
  connect(close, &QPushButton::clicked, this, &QDialog::hide);
  connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
    open_->setEnabled(!selectedId().isEmpty());
    delete_->setEnabled(!selectedId().isEmpty());
  });
  refresh();
}

void CacheManager::refresh() {
  const hub::HubCache cache(hub::hub_settings_from_environment().cache);
  table_->setRowCount(0);
  std::uint64_t total = 0;
  for (const auto& m : cache.list()) {
    const int row = table_->rowCount();
    table_->insertRow(row);
    QStringList revisions, states;
    for (const auto& r : m.revisions) {
      const QString commit = QString::fromStdString(r.commit).left(8);
      QStringList refs;
      for (const auto& ref : r.refs) refs << QString::fromStdString(ref);
      revisions << (refs.isEmpty() ? commit : tr("%1 (%2)").arg(refs.join(QStringLiteral(", ")), commit));
      if (!r.missing.empty()) states << tr("%1 lacks %2").arg(commit, QString::fromStdString(r.missing.front()));
    }
    auto cell = [&](Column column, const QString& text) {
      auto* item = new QTableWidgetItem(text);
      item->setData(Qt::UserRole, QString::fromStdString(m.id));
      table_->setItem(row, column, item);
    };
    cell(kModel, QString::fromStdString(m.id));
    cell(kSize, QString::fromStdString(describe_bytes(m.bytes)));
    table_->item(row, kSize)->setData(Qt::UserRole + 1, static_cast<qulonglong>(m.bytes));
    cell(kRevisions, revisions.join(QStringLiteral("; ")));
    cell(kState, states.isEmpty() ? (m.revisions.empty() ? tr("no snapshot") : tr("complete")) : states.join(QStringLiteral("; ")));
    cell(kFolder, QString::fromStdString(m.folder.string()));
    total += m.bytes;
  }
  table_->resizeColumnsToContents();
  status_->setText(tr("%1, %2, in %3")
                       .arg(counted(table_->rowCount(), tr("model"), tr("models")),
                            QString::fromStdString(describe_bytes(total)), QString::fromStdString(cache.root().string())));
  open_->setEnabled(false);
  delete_->setEnabled(false);
}

QString CacheManager::selectedId() const {
  const auto rows = table_->selectionModel()->selectedRows();
  return rows.isEmpty() ? QString() : table_->item(rows.first().row(), kModel)->data(Qt::UserRole).toString();
}

bool CacheManager::removeModel(const QString& id, bool ask) {
  if (ask && QMessageBox::question(this, tr("Delete from the cache"),
                                   tr("Delete %1 from the Hugging Face cache? Python's transformers shares this cache "
                                      "and will download it again when it needs it.").arg(id)) != QMessageBox::Yes)
    return false;
  try {
    const std::uint64_t freed = hub::HubCache(hub::hub_settings_from_environment().cache).remove(id.toStdString());
    refresh();
    status_->setText(tr("Deleted %1 (%2 freed).").arg(id, QString::fromStdString(describe_bytes(freed))));
    return true;
  } catch (const std::exception& e) {
    status_->setText(QString::fromUtf8(e.what()));
    return false;
  }
}

}  // namespace bertscope::gui
