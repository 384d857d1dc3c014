#pragma once
// Helpers shared by the test suites: backends (Vulkan with validation, or a skip), oracle fixtures, temp models.
#include <sys/resource.h>

#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/backend.h"
#include "model/random_model.h"
#include "train/bert_trainer.h"

namespace bertscope::test {

// A Vulkan backend with validation layers (synchronization validation included), or nullptr and a reason.
std::unique_ptr<Backend> vulkan_backend(QString* why_not);
int validation_messages(Backend& vulkan);               // count so far
std::string validation_report(Backend& vulkan);         // the messages, for a failure report

// The oracle fixtures folder, or empty with the reason the fixtures were skipped.
std::filesystem::path oracle_fixtures(QString* why_not);
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path);

// Hugging Face's answers for a model folder bertscope wrote: hf-oracle's make_model.py --from_dir re-exports it
// (into `work`), then transformers.js runs `task` (fill-mask, text-classification, ...) on each input. Empty, with
// the reason, when the oracle is unavailable.
std::vector<nlohmann::json> ask_hugging_face(const std::filesystem::path& model, const std::string& task,
                                             const std::vector<nlohmann::json>& inputs, const std::filesystem::path& work,
                                             QString* why_not);

// A vocabulary of a few hundred real English WordPieces (resources/vocab, first 2000 entries), for tiny models.
std::filesystem::path small_vocab(const QTemporaryDir& dir);

// A one-layer model of 16 hidden units, 2 heads and 32 feed-forward units on small_vocab(dir).
RandomModelSpec tiny_model_spec(const QTemporaryDir& dir);

// While alive, a file may grow to at most `bytes` (writes past it fail with EFBIG, as on a full disk).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes);
  ~FileSizeLimit();
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit saved_{};
};

// A two-layer model of 32 hidden units, 2 heads and 64 feed-forward units on the whole bert-base-uncased vocabulary
// (resources/vocab), for tests that type real English. init_std: 0.5 gives peaked, varied predictions, 0.1 a model
// that trains smoothly.
RandomModelSpec small_bert_spec(unsigned seed, float init_std);

// Largest |a - b| / max(1, max |a|).
double normalised_error(const std::vector<float>& a, const std::vector<float>& b);

// A training batch as the PyTorch gradient scripts (tests/oracle/*_gradients.py) read and the fixtures hold it:
// {"ids", "mask", "type_ids" (absent: zeros), "labels"} with (B, T) arrays, labels (B) or (B, T).
TrainBatch read_train_batch(const std::filesystem::path& file);
void write_train_batch(const std::filesystem::path& file, const TrainBatch& batch, bool with_type_ids);

// Every trainable parameter's gradient against PyTorch's (a safetensors file of gradients by Hugging Face name),
// each relative to the largest |gradient| of that tensor (normalised_error). `missing` lists parameters PyTorch has
// no gradient for; `compared` counts the others, `theirs` counts PyTorch's gradients.
struct GradientComparison {
  double worst = 0;
  std::string worst_name;
  size_t compared = 0, theirs = 0;
  std::vector<std::string> missing;
};
GradientComparison compare_gradients(BertTrainer& trainer, const std::filesystem::path& torch_gradients);

// /usr/bin/python3 SCRIPT ARGS...: true when it exits 0; otherwise false with its stderr in *error.
bool run_python(const std::filesystem::path& script, const QStringList& args, QString* error, int timeout_ms = 300000);

}  // namespace bertscope::test
