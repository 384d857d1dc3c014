#pragma once
// Export of every layer and head of one text's attention, in the engine's formats (tasks/attention_maps.h, which
// bertscope-cli attention writes too): JSON, {"attentions": [layer][head][query][key], "tokens": [...], "layers",
// "heads", "layer_indices", "head_indices"}; or a float32 .npy of shape (layers, heads, T, T) with its tokens and
// axes in a .json beside it. Written a layer at a time on a thread of its own, through StagedFile: never over an
// existing file, and a full disk, an error or a cancel leaves no file behind.
#include <QObject>
#include <QStringList>
#include <atomic>
#include <memory>
#include <thread>

#include "tasks/tasks.h"

namespace bertscope::gui {

class AttentionExporter : public QObject {
  Q_OBJECT
 public:
  explicit AttentionExporter(QObject* parent = nullptr);
  ~AttentionExporter() override;  // cancels a running export and waits for it

  // The files an export to `path` writes: `path`, and for .npy the .json beside it.
  static QStringList outputs(const QString& path);
  // Starts writing every layer x head of `result` to `path` (.npy: the array and its tokens file; any other name:
  // JSON). Returns why it cannot start (an export running, a file that exists, a folder that cannot be written), or
  // an empty string; the files are checked now, so a refusal costs nothing.
  QString start(std::shared_ptr<const AttentionResult> result, const QString& path);
  bool running() const { return running_; }
  void cancel() { cancel_ = true; }

 signals:
  void progress(int layersWritten, int layers);
  void finished(const QString& error, const QStringList& written);  // error empty when every file is in place

 private:
  std::thread thread_;
  std::atomic<bool> cancel_{false};
  bool running_ = false;  // UI thread only
};

}  // namespace bertscope::gui
