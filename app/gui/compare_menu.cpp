#include "compare_menu.h"

#include <QAction>
#include <QFileDialog>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>
#include <filesystem>

#include "engine_client.h"
#include "hub_download.h"
#include "page_support.h"

namespace bertscope::gui {

bool is_default_model(const LoadedModel& model) {
  try {
    std::error_code error;
    return std::filesystem::equivalent(model.info.folder, resolveGuiModel("default"), error);
  } catch (const std::exception&) {
    return false;  // no built-in model here: whatever is open is another one
  }
}

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
  // The built-in model as B: no folder to find (it lives in bertscope's data folder). Not offered while it is A.
  QAction* builtIn = file->addAction(QObject::tr("Compare with the &default model"));
  builtIn->setObjectName(QStringLiteral("compareDefaultModel"));
  builtIn->setToolTip(QObject::tr("Open bertscope's built-in model as model B, beside the model in use"));
  QObject::connect(builtIn, &QAction::triggered, parent, [engine, latest] { *latest = engine->compareWith(QStringLiteral("default")); });
  QAction* stop = file->addAction(QObject::tr("&Stop comparing"), engine, &EngineClient::stopCompare);
  stop->setObjectName(QStringLiteral("stopCompare"));
  stop->setEnabled(false);
  const auto update = [engine, folder, hub, builtIn, stop] {
    stop->setEnabled(engine->comparing());
    folder->setEnabled(engine->model() != nullptr);
    hub->setEnabled(engine->model() != nullptr);
    builtIn->setEnabled(engine->model() != nullptr && !is_default_model(*engine->model()));
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
