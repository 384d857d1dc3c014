#include "test_support.h"

#include <cmath>
#include <QProcess>
#include <fstream>

#include "gpu/vulkan_backend.h"

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

}  // namespace bertscope::test
