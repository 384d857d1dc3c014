#include "hub_download.h"

#include <QFileInfo>
#include <QMetaObject>

#include "hub/download.h"
#include "hub/protocol.h"
#include "session.h"

namespace bertscope::gui {

HubArgument parseHubArgument(const QString& model) {
  if (model.isEmpty() || model == QLatin1String("default") || QFileInfo::exists(model)) return {};
  const qsizetype at = model.indexOf(QLatin1Char('@'));
  HubArgument a{at < 0 ? model : model.left(at), at < 0 ? QStringLiteral("main") : model.mid(at + 1)};
  if (!hub::is_valid_repo_id(a.id.toStdString()) || !hub::is_safe_revision(a.revision.toStdString())) return {};
  return a;
}

QString hubArgument(const QString& id, const QString& revision) {
  return revision.isEmpty() || revision == QLatin1String("main") ? id : id + QLatin1Char('@') + revision;
}

std::filesystem::path resolveGuiModel(const std::string& argument) {
  const HubArgument hub = parseHubArgument(QString::fromStdString(argument));
  hub::FetchOptions options;
  if (hub.valid()) options.revision = hub.revision.toStdString();
  return resolve_model_path(hub.valid() ? hub.id.toStdString() : argument, options);
}

HubDownload::HubDownload(QObject* parent) : QObject(parent) {}

HubDownload::~HubDownload() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

void HubDownload::cancel() { cancel_ = true; }

bool HubDownload::start(const QString& id, const QString& revision) {
  if (running_) return false;
  if (thread_.joinable()) thread_.join();  // the last one has already said how it ended
  running_ = true;
  cancel_ = false;
  const std::string repo = id.toStdString(), rev = revision.toStdString();
  thread_ = std::thread([this, repo, rev, id, revision] {
    hub::FetchOptions o;
    o.revision = rev;
    o.cancel = &cancel_;
    // Signals of an object living on the UI thread, emitted here: Qt queues them to the UI thread's receivers.
    o.on_progress = [this](const hub::DownloadProgress& p) {
      emit progress(static_cast<qint64>(p.done), static_cast<qint64>(p.total), p.bytes_per_second, p.eta_seconds,
                    QString::fromStdString(p.file), p.files_done, p.file_count);
    };
    o.on_note = [this](const std::string& text) { emit note(QString::fromStdString(text)); };
    QString folder, error;
    bool cancelled = false;
    try {
      folder = QString::fromStdString(hub::open_hub_model(repo, o).folder.string());
    } catch (const hub::HubError& e) {
      cancelled = e.kind() == hub::HubError::Kind::Cancelled;
      error = QString::fromUtf8(e.what());
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
    }
    QMetaObject::invokeMethod(this, [this, folder, error, cancelled, id, revision] {
      running_ = false;
      if (error.isEmpty()) emit finished(folder, id, revision);
      else emit failed(error, cancelled);
    }, Qt::QueuedConnection);
  });
  return true;
}

}  // namespace bertscope::gui
