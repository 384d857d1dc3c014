#include "attention_export.h"

#include <QFileInfo>
#include <filesystem>

#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "tasks/attention_maps.h"

namespace fs = std::filesystem;

namespace bertscope::gui {

namespace {

// The maps the window already holds, handed to the engine's writers a layer at a time.
class HeldAttention : public AttentionLayers {
 public:
  explicit HeldAttention(std::shared_ptr<const AttentionResult> result) : result_(std::move(result)) {
    for (int l = 0; l < result_->layers; ++l) layers_.push_back(l);
    for (int h = 0; h < result_->heads; ++h) heads_.push_back(h);
  }
  const Encoding& encoding() const override { return result_->encoding; }
  const std::vector<int>& layers() const override { return layers_; }
  const std::vector<int>& heads() const override { return heads_; }
  std::vector<float> take_layer(size_t i) override { return result_->maps.at(i); }  // (heads, T, T), a copy

 private:
  std::shared_ptr<const AttentionResult> result_;
  std::vector<int> layers_, heads_;
};

bool is_npy(const QString& path) { return QFileInfo(path).suffix().compare(QLatin1String("npy"), Qt::CaseInsensitive) == 0; }

fs::path sidecar_of(const fs::path& npy) { return fs::path(npy).replace_extension(".json"); }

}  // namespace

AttentionExporter::AttentionExporter(QObject* parent) : QObject(parent) {}

AttentionExporter::~AttentionExporter() {
  cancel_ = true;
  if (thread_.joinable()) thread_.join();
}

QStringList AttentionExporter::outputs(const QString& path) {
  QStringList files{path};
  if (is_npy(path)) files << QString::fromStdString(sidecar_of(path.toStdString()).string());
  return files;
}

QString AttentionExporter::start(std::shared_ptr<const AttentionResult> result, const QString& path) {
  if (running_) return tr("An export is still running; wait for it or cancel it first.");
  if (!result) return tr("There is no attention to export yet: type a sentence first.");
  const bool npy = is_npy(path);
  std::unique_ptr<StagedFile> file, sidecar;
  try {  // both names checked before any work: an existing file is refused here, untouched
    file = std::make_unique<StagedFile>(path.toStdString());
    if (npy) sidecar = std::make_unique<StagedFile>(sidecar_of(file->destination()));
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
  if (thread_.joinable()) thread_.join();  // the last export's thread, already done
  cancel_ = false;
  running_ = true;
  thread_ = std::thread([this, result, npy, file = std::move(file), sidecar = std::move(sidecar)]() mutable {
    QString error;
    QStringList written;
    try {
      HeldAttention maps(result);
      const int layers = int(maps.layers().size());
      auto after_layer = [&](size_t done) {
        if (cancel_) throw Error("the export was cancelled; no file was written");
        // A failed write (a full disk) shows as a failed stream: commit() then throws, naming the file and why.
        if (!file->stream()) file->commit();
        QMetaObject::invokeMethod(this, [this, done, layers] { emit progress(int(done), layers); }, Qt::QueuedConnection);
      };
      if (npy) {
        write_attention_npy(maps, file->stream(), after_layer);
        sidecar->stream() << dump_json(attention_sidecar(maps, file->destination().filename().string())) << '\n';
      } else {
        write_attention_json(maps, /*with_indices=*/true, file->stream(), after_layer);
        file->stream() << '\n';
      }
      if (sidecar) {
        commit_together(*file, *sidecar);  // an array without its tokens file is not a result
      } else {
        file->commit();
      }
      written << QString::fromStdString(file->destination().string());
      if (sidecar) written << QString::fromStdString(sidecar->destination().string());
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
      written.clear();
    }
    file.reset();  // an unfinished export's temporary files are gone before finished() says so
    sidecar.reset();
    QMetaObject::invokeMethod(this, [this, error, written] {
      running_ = false;
      emit finished(error, written);
    }, Qt::QueuedConnection);
  });
  return {};
}

}  // namespace bertscope::gui
