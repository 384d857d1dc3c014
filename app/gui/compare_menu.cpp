#include "compare_menu.h"

#include <QAction>
#include <QFileDialog>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>

#include "engine_client.h"
#include "page_support.h"

namespace bertscope::gui {

void add_compare_actions(QMenu* file, EngineClient* engine, MessageLine* banner, QWidget* parent) {
  // The request asked for last, so that only its failure shows.
  auto latest = std::make_shared<quint64>(0);
  QAction* folder = file->addAction(QObject::tr("&Compare with another model folder…"));
  folder->setObjectName(QStringLiteral("compareModel"));
  folder->setToolTip(QObject::tr("Open a second model (e.g. the model before fine-tuning) and show both models' answers side by side"));
  QObject::connect(folder, &QAction::triggered, parent, [engine, parent, latest] {
    const QString chosen = QFileDialog::getExistingDirectory(parent, QObject::tr("Model to compare with (model B)"));
    if (!chosen.isEmpty()) *latest = engine->compareWith(chosen);
  });
  QAction* hub = file->addAction(QObject::tr("Compare with a &Hub model…"));
  hub->setObjectName(QStringLiteral("compareHubModel"));
  QObject::connect(hub, &QAction::triggered, parent, [engine, parent, latest] {
    bool ok = false;
    const QString id = QInputDialog::getText(parent, QObject::tr("Model to compare with (model B)"),
                                             QObject::tr("Hugging Face Hub id (org/name[@revision]); taken from the Hub cache, else downloaded first:"),
                                             QLineEdit::Normal, QString(), &ok);
    if (ok && !id.trimmed().isEmpty()) *latest = engine->compareWith(id.trimmed());
  });
  QAction* stop = file->addAction(QObject::tr("&Stop comparing"), engine, &EngineClient::stopCompare);
  stop->setObjectName(QStringLiteral("stopCompare"));
  stop->setEnabled(false);
  const auto update = [engine, folder, hub, stop] {
    stop->setEnabled(engine->comparing());
    folder->setEnabled(engine->model() != nullptr);
    hub->setEnabled(engine->model() != nullptr);
  };
  update();
  QObject::connect(engine, &EngineClient::compareChanged, parent, update);
  QObject::connect(engine, &EngineClient::loaded, parent, update);
  QObject::connect(engine, &EngineClient::failed, parent, [banner, latest](quint64 id, Job job, const QString& error) {
    if (job != Job::Compare || id != *latest) return;
    banner->showError(QObject::tr("Could not open the model to compare with: %1\nThe models in use are still loaded.").arg(error));
  });
}

}  // namespace bertscope::gui
