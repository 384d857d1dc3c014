#include "test_support.h"

#include <csignal>
#include <cmath>
#include <QProcess>
#include <fstream>

#include "gpu/vulkan_backend.h"
#include "model/safetensors.h"

#if defined(__SANITIZE_ADDRESS__)
#include <dlfcn.h>
namespace {
// Under AddressSanitizer (scripts/sanitize-tests.sh): the Vulkan loader unloads the validation layer with its
// instance, and LeakSanitizer then reports the layer's own leftovers at exit as "<unknown module>", which no
// suppression can name. Kept loaded, they are named, and tests/sanitizers/lsan.supp suppresses them.
[[maybe_unused]] const bool validation_layer_kept =
    dlopen("libVkLayer_khronos_validation.so", RTLD_NOW | RTLD_NODELETE) != nullptr;
}  // namespace
#endif

namespace bertscope::test {

std::unique_ptr<Backend> vulkan_backend(QString* why_not) {
  try {
    return std::make_unique<gpu::VulkanBackend>(-1, /*validation=*/true);
  } catch (const std::exception& e) {
    *why_not = QString("no usable Vulkan device with validation layers: ") + e.what();
    return nullptr;
  }
}

int validation_messages(Backend& vulkan) {
  return static_cast<gpu::VulkanBackend&>(vulkan).context().validation_message_count();
}

std::string validation_report(Backend& vulkan) {
  std::string s;
  for (const auto& m : static_cast<gpu::VulkanBackend&>(vulkan).context().validation_messages()) s += m + "\n";
  return s;
}

std::filesystem::path oracle_fixtures(QString* why_not) {
  const char* env = std::getenv("BERTSCOPE_ORACLE_FIXTURES");
  if (!env) {
    *why_not = "BERTSCOPE_ORACLE_FIXTURES is not set (run through ctest)";
    return {};
  }
  std::filesystem::path dir(env);
  if (std::filesystem::exists(dir / "SKIPPED")) {
    std::ifstream in(dir / "SKIPPED");
    std::string reason;
    std::getline(in, reason);
    *why_not = QString::fromStdString("Hugging Face oracle unavailable: " + reason);
    return {};
  }
  if (!std::filesystem::exists(dir / "tokenize_expected.jsonl")) {
    *why_not = "oracle fixtures missing (the oracle_fixtures test did not run)";
    return {};
  }
  return dir;
}

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::vector<nlohmann::json> ask_hugging_face(const std::filesystem::path& model, const std::string& task,
                                             const std::vector<nlohmann::json>& inputs, const std::filesystem::path& work,
                                             QString* why_not) {
  if (oracle_fixtures(why_not).empty()) return {};  // the oracle's dependencies are missing: same reason
  const char* shared_env = std::getenv("BERTSCOPE_SHARED");
  const std::filesystem::path shared = shared_env ? shared_env : BERTSCOPE_TEST_SHARED;
  const char* node_env = std::getenv("HF_ORACLE_DIR");
  const std::filesystem::path node_dir = node_env ? std::filesystem::path(node_env)
                                                  : std::filesystem::path(std::getenv("HOME")) / ".cache" / "hf-oracle";
  std::filesystem::create_directories(work);
  const std::filesystem::path exported = work / "hf-model", input = work / "inputs.jsonl";
  {
    std::ofstream out(input);
    for (const auto& j : inputs) out << j.dump() << "\n";
  }
  QProcess make;
  make.start("/usr/bin/python3", {QString::fromStdString((shared / "tools" / "hf-oracle" / "make_model.py").string()),
                                  QString::fromStdString(exported.string()), "--from_dir", QString::fromStdString(model.string())});
  if (!make.waitForFinished(300000) || make.exitCode() != 0) {
    *why_not = "make_model.py --from_dir failed: " + QString::fromUtf8(make.readAllStandardError());
    return {};
  }
  QProcess ask;
  ask.setWorkingDirectory(QString::fromStdString(node_dir.string()));
  ask.start("node", {"hf_pipeline.mjs", QString::fromStdString(task), QString::fromStdString(exported.string()),
                     QString::fromStdString(input.string())});
  if (!ask.waitForFinished(300000) || ask.exitCode() != 0) {
    *why_not = "hf_pipeline.mjs failed: " + QString::fromUtf8(ask.readAllStandardError());
    return {};
  }
  std::vector<nlohmann::json> out;
  for (const QByteArray& line : ask.readAllStandardOutput().split('\n'))
    if (!line.trimmed().isEmpty()) out.push_back(nlohmann::json::parse(line.toStdString())["result"]);
  return out;
}

std::filesystem::path small_vocab(const QTemporaryDir& dir) {
  std::ifstream in(std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt");
  const std::filesystem::path out_path = std::filesystem::path(dir.path().toStdString()) / "small-vocab.txt";
  std::ofstream out(out_path);
  int n = 0;
  for (std::string line; n < 2000 && std::getline(in, line); ++n) out << line << "\n";
  return out_path;
}

RandomModelSpec tiny_model_spec(const QTemporaryDir& dir) {
  RandomModelSpec spec;
  spec.vocab_file = small_vocab(dir);
  spec.layers = 1;
  spec.hidden = 16;
  spec.heads = 2;
  spec.intermediate = 32;
  return spec;
}

FileSizeLimit::FileSizeLimit(rlim_t bytes) {
  getrlimit(RLIMIT_FSIZE, &saved_);
  std::signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of the signal killing the test
  rlimit limit = saved_;
  limit.rlim_cur = bytes;
  setrlimit(RLIMIT_FSIZE, &limit);
}

FileSizeLimit::~FileSizeLimit() { setrlimit(RLIMIT_FSIZE, &saved_); }

RandomModelSpec small_bert_spec(unsigned seed, float init_std) {
  RandomModelSpec spec;
  spec.vocab_file = std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt";
  spec.layers = 2;
  spec.hidden = 32;
  spec.heads = 2;
  spec.intermediate = 64;
  spec.seed = seed;
  spec.init_std = init_std;
  return spec;
}

double normalised_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double scale = 1.0, err = 0.0;
  for (float v : a) scale = std::max(scale, static_cast<double>(std::fabs(v)));
  for (size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(b[i])) return INFINITY;
    err = std::max(err, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return err / scale;
}

TrainBatch read_train_batch(const std::filesystem::path& file) {
  const auto j = nlohmann::json::parse(std::ifstream(file));
  TrainBatch b;
  b.tokens.batch = int(j["ids"].size());
  b.tokens.seq_len = int(j["ids"][0].size());
  const bool types = j.contains("type_ids");
  for (size_t r = 0; r < j["ids"].size(); ++r)
    for (size_t c = 0; c < j["ids"][r].size(); ++c) {
      b.tokens.ids.push_back(j["ids"][r][c]);
      b.tokens.mask.push_back(j["mask"][r][c]);
      b.tokens.type_ids.push_back(types ? j["type_ids"][r][c].get<std::int32_t>() : 0);
    }
  for (const auto& l : j["labels"]) {
    if (l.is_array()) for (const auto& x : l) b.labels.push_back(x);
    else b.labels.push_back(l);
  }
  return b;
}

void write_train_batch(const std::filesystem::path& file, const TrainBatch& b, bool with_type_ids) {
  const size_t T = static_cast<size_t>(b.tokens.seq_len);
  auto rows = [&](const std::vector<std::int32_t>& flat) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t r = 0; r * T < flat.size(); ++r) out.push_back(std::vector<std::int32_t>(flat.begin() + r * T, flat.begin() + (r + 1) * T));
    return out;
  };
  nlohmann::json j = {{"ids", rows(b.tokens.ids)}, {"mask", rows(b.tokens.mask)}};
  if (with_type_ids) j["type_ids"] = rows(b.tokens.type_ids);
  j["labels"] = b.labels.size() == b.tokens.ids.size() ? rows(b.labels) : nlohmann::json(b.labels);
  std::ofstream(file) << j.dump();
}

GradientComparison compare_gradients(BertTrainer& trainer, const std::filesystem::path& torch_gradients) {
  SafetensorsFile torch(torch_gradients);
  GradientComparison c;
  c.theirs = torch.tensors().size();
  for (auto& p : trainer.params()) {
    if (!p->trainable) continue;
    if (!torch.contains(p->name)) {
      c.missing.push_back(p->name);
      continue;
    }
    std::vector<float> converted, ours(size_t(p->grad.numel()));
    auto want = torch.read_f32(p->name, converted);
    trainer.backend().download(p->grad, ours);
    const double err = normalised_error(std::vector<float>(want.begin(), want.end()), ours);
    if (err > c.worst) c.worst = err, c.worst_name = p->name;
    ++c.compared;
  }
  return c;
}

bool run_python(const std::filesystem::path& script, const QStringList& args, QString* error, int timeout_ms) {
  QProcess python;
  python.start("/usr/bin/python3", QStringList{QString::fromStdString(script.string())} + args);
  const bool ok = python.waitForFinished(timeout_ms) && python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0;
  if (!ok) *error = QString::fromStdString(script.filename().string()) + " failed: " + QString::fromUtf8(python.readAllStandardError());
  return ok;
}

}  // namespace bertscope::test
