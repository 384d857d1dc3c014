// The Vulkan f16 variant (engine/gpu/kernel_variants.h) on whole models: their weight matrices stored as F16, their
// forward pass against the CPU backend (float32 weights, the reference), and the GPU memory it saves.
// The op-level checks (linear and its backward with F16 weights) are in test_ops, run with f16=on by CTest.
#include <QtTest>
#include <array>
#include <cstdlib>
#include <optional>

#include "core/error.h"
#include "cpu/cpu_backend.h"
#include "gpu/vulkan_backend.h"
#include "model/bert_model.h"
#include "model/pretrained.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// A Vulkan backend (validation on) with the f16 variant forced on or off, after whatever BERTSCOPE_VK_VARIANTS
// already says (a later key wins); the variable is restored afterwards.
std::unique_ptr<gpu::VulkanBackend> vulkan_with_f16(bool on) {
  const char* before = std::getenv("BERTSCOPE_VK_VARIANTS");
  const std::optional<std::string> saved = before ? std::optional<std::string>(before) : std::nullopt;
  const std::string forced = (saved ? *saved + "," : std::string()) + (on ? "f16=on" : "f16=off");
  setenv("BERTSCOPE_VK_VARIANTS", forced.c_str(), 1);
  std::unique_ptr<gpu::VulkanBackend> backend;
  try {
    backend = std::make_unique<gpu::VulkanBackend>(-1, /*validation=*/true);
  } catch (...) {
    saved ? setenv("BERTSCOPE_VK_VARIANTS", saved->c_str(), 1) : unsetenv("BERTSCOPE_VK_VARIANTS");
    throw;
  }
  saved ? setenv("BERTSCOPE_VK_VARIANTS", saved->c_str(), 1) : unsetenv("BERTSCOPE_VK_VARIANTS");
  return backend;
}

// Every matrix the model keeps for `linear` (the ones the f16 variant halves).
std::vector<const Tensor*> linear_weights(BertModel& m) {
  std::vector<const Tensor*> out;
  for (const EncoderLayerRefs& l : m.encoder().weights().layers)
    for (const LinearRef* r : {&l.query, &l.key, &l.value, &l.attention_output, &l.intermediate, &l.output})
      out.push_back(r->weight);
  if (m.has_mlm_head()) out.push_back(&m.mlm_transform().weight);
  if (m.has_pooler()) out.push_back(&m.sequence_dense().weight);
  if (m.has_classifier()) out.push_back(&m.classifier().weight);
  if (m.has_qa_head()) out.push_back(&m.qa().weight);
  if (m.has_token_classifier()) out.push_back(&m.token_classifier().weight);
  return out;
}

}  // namespace

class TestF16Weights : public QObject {
  Q_OBJECT
  fs::path folder_;
  std::unique_ptr<gpu::VulkanBackend> f16_, f32_;
  std::optional<Pretrained> pretrained_;

 private slots:
  void initTestCase() {
    try {
      f16_ = vulkan_with_f16(true);  // throws where the device has no 16-bit storage
      f32_ = vulkan_with_f16(false);
    } catch (const std::exception& e) {
      QSKIP(qPrintable(QString("no Vulkan device with 16-bit storage and validation layers: ") + e.what()));
    }
    // The source tree's resources, or (a build carried to another machine, scripts/gpu-check.sh) the tree around
    // the build folder: build-*/tests/test_f16_weights.
    folder_ = fs::path(BERTSCOPE_TEST_RESOURCES) / "default-model";
    if (!fs::exists(folder_))
      folder_ = fs::path(QCoreApplication::applicationDirPath().toStdString()) / "../../resources/default-model";
    qInfo("Vulkan device: %s; variants: %s", f16_->name().c_str(), f16_->kernel_variants().describe().c_str());
    QVERIFY(f16_->kernel_variants().f16);
    QVERIFY(!f32_->kernel_variants().f16);
    pretrained_ = open_pretrained(folder_);
  }

  // Only the matrices `linear` reads are F16; embeddings (gathered by row, and the tied decoder), biases and
  // LayerNorm parameters stay F32. Their GPU memory: the F32 model's less two bytes per matrix element.
  void weightMatricesAreF16() {
    const std::int64_t before16 = f16_->tensor_bytes(), before32 = f32_->tensor_bytes();
    BertModel m16(pretrained_->config, Checkpoint(folder_), *f16_);
    BertModel m32(pretrained_->config, Checkpoint(folder_), *f32_);
    const std::int64_t bytes16 = f16_->tensor_bytes() - before16, bytes32 = f32_->tensor_bytes() - before32;
    std::int64_t matrix_elements = 0;
    for (const Tensor* w : linear_weights(m16)) {
      QCOMPARE(w->dtype(), DType::F16);
      matrix_elements += w->numel();
    }
    for (const Tensor* w : linear_weights(m32)) QCOMPARE(w->dtype(), DType::F32);
    const EncoderRefs& refs = m16.encoder().weights();
    QCOMPARE(refs.word->dtype(), DType::F32);
    QCOMPARE(refs.layers[0].query.bias->dtype(), DType::F32);
    QCOMPARE(refs.layers[0].attention_norm.gamma->dtype(), DType::F32);
    QCOMPARE(m16.mlm_decoder().dtype(), DType::F32);  // tied to the word embeddings
    QCOMPARE(bytes32 - bytes16, matrix_elements * 2);  // every matrix here has an even element count
    qInfo("default model's weights on the GPU: %.2f MiB with F32 matrices, %.2f MiB with F16 matrices (%.0f%%)",
          bytes32 / 1048576.0, bytes16 / 1048576.0, 100.0 * bytes16 / bytes32);
  }

  // A forward pass (last hidden state, masked-LM logits at every token) with F16 matrices and with F32 ones on
  // Vulkan, against the CPU with float32 ones: normalised errors {F16 hidden, F16 logits, F32 hidden, F32 logits}.
  std::array<double, 4> forward_errors(const fs::path& folder) {
    CpuBackend cpu;
    const Pretrained p = open_pretrained(folder);
    BertModel on_cpu(p.config, Checkpoint(folder), cpu), on_f16(p.config, Checkpoint(folder), *f16_),
        on_f32(p.config, Checkpoint(folder), *f32_);
    const Encoding encoding = p.tokenizer->encode("the river bank was [MASK] after the storm, so we walked home.");
    const TokenBatch batch = single_batch(encoding);
    std::vector<std::int32_t> rows;
    for (size_t i = 0; i < encoding.tokens.size(); ++i) rows.push_back(static_cast<std::int32_t>(i));  // every token
    struct Result { std::vector<float> hidden, logits; };
    auto run = [&](BertModel& m) {
      const EncoderOutput out = m.encode(batch);
      return Result{m.to_host(out.hidden), m.mlm_logits(out.hidden, rows)};
    };
    const Result want = run(on_cpu), f16 = run(on_f16), f32 = run(on_f32);
    const std::array<double, 4> e{test::normalised_error(want.hidden, f16.hidden),
                                  test::normalised_error(want.logits, f16.logits),
                                  test::normalised_error(want.hidden, f32.hidden),
                                  test::normalised_error(want.logits, f32.logits)};
    qInfo("normalised error against the CPU: F16 matrices %.2e (hidden) %.2e (logits); F32 %.2e %.2e", e[0], e[1],
          e[2], e[3]);
    if (test::validation_messages(*f16_) != 0) qWarning("%s", test::validation_report(*f16_).c_str());
    return e;
  }

  // The default model's checkpoint holds F16 values already: rounding them to F16 loses nothing, so its pass with
  // F16 matrices agrees with the CPU as closely as float32 does (1e-5: only the order of float32 sums differs).
  void defaultModelLosesNothing() {
    const auto e = forward_errors(folder_);
    QVERIFY2(e[0] < 1e-5 && e[1] < 1e-5 && e[2] < 1e-5 && e[3] < 1e-5, "differs from the CPU");
    QCOMPARE(test::validation_messages(*f16_), 0);
  }

  // A float32 model (4 layers, 128 hidden, random weights of std 0.05) loses up to 2^-11 of each weight. Each
  // linear's output then moves by at most 2^-11 of the size of its terms (test_ops checks that bound), about 3e-4
  // of it typically; LayerNorm keeps every layer's output near unit scale, so 4 layers and the masked-LM head
  // compound that to a few 1e-3 at most: 1e-2 allowed. It must also differ by more than the float32 pass does
  // (it did use F16).
  void float32ModelWithinTolerance() {
    QTemporaryDir dir;
    RandomModelSpec spec = test::tiny_model_spec(dir);
    spec.layers = 4;
    spec.hidden = 128;
    spec.heads = 4;
    spec.intermediate = 512;
    spec.init_std = 0.05f;
    const fs::path folder = fs::path(dir.path().toStdString()) / "f32-model";
    write_random_model(folder, spec);
    const auto e = forward_errors(folder);
    QVERIFY2(e[0] < 1e-2 && e[1] < 1e-2, "F16 weights: forward pass too far from the CPU's");
    QVERIFY2(e[2] < 1e-5 && e[3] < 1e-5, "F32 weights: forward pass too far from the CPU's");
    QVERIFY2(e[0] > 10 * e[2], "the F16 run matches as closely as float32: were its weights F16?");
    QCOMPARE(test::validation_messages(*f16_), 0);
  }
};

QTEST_GUILESS_MAIN(TestF16Weights)
#include "test_f16_weights.moc"
