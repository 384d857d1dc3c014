#pragma once
// HubDownload: one model fetched from the Hugging Face Hub (hub/download.h) on a thread of its own, so the window
// stays usable; progress, notes and the outcome arrive as signals on the UI thread. And the GUI's reading of a model
// argument that names a Hub model: "org/name" or "org/name@revision".
#include <QObject>
#include <QString>
#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>

namespace bertscope::gui {

// A model argument split into Hub id and revision ("main" when no "@revision" follows), when it names a Hub model:
// not an existing path, not "default", a valid id. Otherwise `id` is empty.
struct HubArgument {
  QString id, revision;
  bool valid() const { return !id.isEmpty(); }
};
HubArgument parseHubArgument(const QString& model);
// "org/name", or "org/name@revision" for another revision than main.
QString hubArgument(const QString& id, const QString& revision);
// resolve_model_path for the GUI: "id@revision" goes to the Hub with that revision.
std::filesystem::path resolveGuiModel(const std::string& argument);

class HubDownload : public QObject {
  Q_OBJECT
 public:
  explicit HubDownload(QObject* parent = nullptr);
  ~HubDownload() override;  // cancels a download under way and waits for its thread

  // Starts bringing `id` at `revision` into the cache (the cache first: nothing is fetched when it is complete
  // there). False when a download is already running.
  bool start(const QString& id, const QString& revision = QStringLiteral("main"));
  void cancel();
  bool running() const { return running_; }

 signals:
  void progress(qint64 done, qint64 total, double bytesPerSecond, double etaSeconds, const QString& file, int filesDone,
                int fileCount);
  void note(const QString& text);
  void finished(const QString& folder, const QString& id, const QString& revision);
  void failed(const QString& message, bool cancelled);

 private:
  std::thread thread_;
  std::atomic<bool> cancel_{false};
  bool running_ = false;  // UI thread only
};

}  // namespace bertscope::gui
