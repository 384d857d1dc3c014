// Training a whole model: bertscope's gradients against PyTorch autograd (float64) on Hugging Face models made by
// hf-oracle, on both backends; a few AdamW steps lower the loss; frozen layers stay put; a saved model loads back
// and predicts what the trainer predicted; saving never destroys a folder that is not a model.
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "cpu/cpu_backend.h"
#include "model/random_model.h"
#include "model/safetensors.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "train/bert_trainer.h"
#include "train/optimizer.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

TrainBatch read_batch(const fs::path& file) {
  const auto j = nlohmann::json::parse(std::ifstream(file));
  TrainBatch b;
  b.tokens.batch = int(j["ids"].size());
  b.tokens.seq_len = int(j["ids"][0].size());
  for (size_t r = 0; r < j["ids"].size(); ++r)
    for (size_t c = 0; c < j["ids"][r].size(); ++c) {
      b.tokens.ids.push_back(j["ids"][r][c]);
      b.tokens.mask.push_back(j["mask"][r][c]);
      b.tokens.type_ids.push_back(j["type_ids"][r][c]);
    }
  for (const auto& l : j["labels"]) {
    if (l.is_array()) for (const auto& x : l) b.labels.push_back(x);
    else b.labels.push_back(l);
  }
  return b;
}

std::vector<std::string> labels_of(const fs::path& model) {
  const ModelConfig c = ModelConfig::load(model / "config.json");
  std::vector<std::string> labels;
  for (const auto& [id, label] : c.id2label) labels.push_back(label);
  if (labels.empty()) labels = {"LABEL_0", "LABEL_1"};
  return labels;
}

}  // namespace

class TestTraining : public QObject {
  Q_OBJECT
  CpuBackend cpu_;
  std::unique_ptr<Backend> gpu_;
  QString noGpu_;
  QTemporaryDir dir_;

  // Every parameter's gradient against PyTorch's, relative to the largest |gradient| of that tensor.
  void compareWithTorch(Backend& backend, const QString& head) {
    QString why;
    const fs::path fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    const bool mlm = head == "mlm";
    const fs::path model = fixtures / (mlm ? "mlm_small" : "cls_small");
    TrainerOptions options;
    options.head = mlm ? TrainHead::MaskedLM : TrainHead::SequenceClassification;
    if (!mlm) options.labels = labels_of(model);
    options.dropout = 0.0f;  // PyTorch's reference has no dropout
    BertTrainer trainer(model, backend, options);
    const double loss = trainer.compute_gradients(read_batch(fixtures / (mlm ? "grad_batch_mlm.json" : "grad_batch_cls.json")));
    const auto expected_loss = nlohmann::json::parse(std::ifstream(fixtures / (mlm ? "grads_mlm.json" : "grads_cls.json")))["loss"].get<double>();
    QVERIFY2(std::fabs(loss - expected_loss) < 1e-4 * std::max(1.0, expected_loss),
             qPrintable(QString("loss %1 vs PyTorch %2").arg(loss).arg(expected_loss)));
    SafetensorsFile torch(fixtures / (mlm ? "grads_mlm.safetensors" : "grads_cls.safetensors"));
    double worst = 0;
    std::string worst_name;
    int compared = 0;
    for (auto& p : trainer.params()) {
      QVERIFY2(torch.contains(p->name), qPrintable(QString::fromStdString("PyTorch has no gradient for " + p->name)));
      std::vector<float> converted, ours(size_t(p->grad.numel()));
      auto want = torch.read_f32(p->name, converted);
      backend.download(p->grad, ours);
      const double err = test::normalised_error(std::vector<float>(want.begin(), want.end()), ours);
      if (err > worst) worst = err, worst_name = p->name;
      ++compared;
    }
    qInfo("%s on %s: %d gradients, worst relative error %.2e (%s); loss %.6f vs %.6f", qPrintable(head),
          backend.name().c_str(), compared, worst, worst_name.c_str(), loss, expected_loss);
    QVERIFY2(worst < 1e-4, qPrintable(QString("gradient of %1: relative error %2").arg(QString::fromStdString(worst_name)).arg(worst)));
  }

  fs::path makeClassifier(const std::string& name) {
    RandomModelSpec spec;
    spec.vocab_file = std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt";
    spec.layers = 2;
    spec.hidden = 32;
    spec.heads = 2;
    spec.intermediate = 64;
    spec.seed = 5;
    spec.init_std = 0.1f;
    const fs::path folder = fs::path(dir_.path().toStdString()) / name;
    write_random_model(folder, spec);  // a masked-LM checkpoint: the trainer adds pooler and classifier
    return folder;
  }

  TrainBatch toyBatch(const Tokenizer& tok) {
    const std::vector<std::pair<std::string, int>> data = {
        {"great food and kind staff", 1}, {"terrible service , never again", 0}, {"i loved it", 1}, {"awful , cold food", 0}};
    TrainBatch b;
    std::vector<Encoding> encodings;
    int T = 0;
    for (const auto& [text, label] : data) {
      encodings.push_back(tok.encode(text));
      T = std::max(T, int(encodings.back().size()));
      b.labels.push_back(label);
    }
    b.tokens.batch = int(data.size());
    b.tokens.seq_len = T;
    for (const auto& e : encodings)
      for (int t = 0; t < T; ++t) {
        const bool real = t < int(e.size());
        b.tokens.ids.push_back(real ? e.tokens[size_t(t)].id : 0);
        b.tokens.type_ids.push_back(0);
        b.tokens.mask.push_back(real ? 1 : 0);
      }
    return b;
  }

 private slots:
  void initTestCase() {
    gpu_ = test::vulkan_backend(&noGpu_);
    QVERIFY(dir_.isValid());
  }

  void classifierGradientsMatchPyTorchOnCpu() { compareWithTorch(cpu_, "classification"); }
  void maskedLmGradientsMatchPyTorchOnCpu() { compareWithTorch(cpu_, "mlm"); }
  void classifierGradientsMatchPyTorchOnVulkan() {
    if (!gpu_) QSKIP(qPrintable(noGpu_));
    compareWithTorch(*gpu_, "classification");
    QCOMPARE(test::validation_messages(*gpu_), 0);
  }
  void maskedLmGradientsMatchPyTorchOnVulkan() {
    if (!gpu_) QSKIP(qPrintable(noGpu_));
    compareWithTorch(*gpu_, "mlm");
    QCOMPARE(test::validation_messages(*gpu_), 0);
  }

  void stepsLowerTheLossAndFrozenLayersStay() {
    const fs::path model = makeClassifier("toy");
    Session session(model, {BackendKind::Cpu});
    const TrainBatch batch = toyBatch(session.tokenizer());
    for (Backend* backend : {static_cast<Backend*>(&cpu_), gpu_.get()}) {
      if (!backend) continue;
      TrainerOptions options;
      options.labels = {"negative", "positive"};
      options.frozen_layers = 1;
      BertTrainer trainer(model, *backend, options);
      OptimizerOptions opt;
      opt.learning_rate = 3e-3f;
      opt.warmup_steps = 5;
      opt.total_steps = 60;
      AdamW adamw(trainer.params(), *backend, opt);
      const Param& frozen = trainer.param("bert.encoder.layer.0.attention.self.query.weight");
      std::vector<float> before(size_t(frozen.value.numel())), after(before.size());
      backend->download(frozen.value, before);
      double first = 0, last = 0;
      for (int s = 0; s < 60; ++s) {
        const double loss = trainer.compute_gradients(batch);
        adamw.step();
        if (s == 0) first = loss;
        last = loss;
      }
      backend->download(frozen.value, after);
      qInfo("%s: loss %.4f -> %.4f after 60 steps (dropout 0.1, layer 0 frozen)", backend->name().c_str(), first, last);
      QVERIFY2(last < 0.3 * first, qPrintable(QString("loss %1 -> %2").arg(first).arg(last)));
      QVERIFY(before == after);  // frozen: untouched
    }
  }

  void savedModelPredictsTheSame() {
    const fs::path model = makeClassifier("to-save");
    const fs::path out = fs::path(dir_.path().toStdString()) / "fine-tuned";
    TrainerOptions options;
    options.labels = {"negative", "positive"};
    BertTrainer trainer(model, cpu_, options);
    Session session(model, {BackendKind::Cpu});
    const TrainBatch batch = toyBatch(session.tokenizer());
    AdamW adamw(trainer.params(), cpu_, OptimizerOptions{});
    trainer.compute_gradients(batch);
    adamw.step();
    trainer.save(out);
    QVERIFY(!fs::exists(out.string() + ".partial"));
    const std::vector<float> logits = trainer.classification_logits(batch.tokens);
    Session saved(out, {BackendKind::Cpu});
    QCOMPARE(saved.info().architecture, std::string("BertForSequenceClassification"));
    const ClassifyResult r = classify(saved.model(), saved.tokenizer(), "i loved it");
    QCOMPARE(r.scores[1].label, std::string("positive"));
    const auto p = softmax(logits.data() + 4, 2);  // the third sentence of the batch is "i loved it"
    QVERIFY(std::fabs(p[1] - r.scores[1].score) < 1e-5);
    // Saving over it again replaces it whole; a folder that is not a model is refused and left alone.
    trainer.save(out);
    const fs::path documents = fs::path(dir_.path().toStdString()) / "documents";
    fs::create_directories(documents);
    std::ofstream(documents / "thesis.txt") << "precious";
    QVERIFY_THROWS_EXCEPTION(std::exception, trainer.save(documents));
    QVERIFY(fs::exists(documents / "thesis.txt"));
  }

  void savedModelMatchesHuggingFace() {
    // Fine-tune a few steps, save, and ask Hugging Face (transformers.js on hf-oracle's re-export) to classify.
    const fs::path model = makeClassifier("for-hf");
    TrainerOptions options;
    options.labels = {"negative", "positive"};
    BertTrainer trainer(model, cpu_, options);
    Session session(model, {BackendKind::Cpu});
    const TrainBatch batch = toyBatch(session.tokenizer());
    OptimizerOptions opt;
    opt.learning_rate = 1e-3f;
    AdamW adamw(trainer.params(), cpu_, opt);
    for (int s = 0; s < 10; ++s) {
      trainer.compute_gradients(batch);
      adamw.step();
    }
    const fs::path out = fs::path(dir_.path().toStdString()) / "for-hf-saved";
    trainer.save(out);
    const std::vector<std::string> texts = {"i loved it", "terrible service , never again", "the food was okay"};
    std::vector<nlohmann::json> inputs;
    for (const auto& t : texts) inputs.push_back({{"text", t}});
    QString why;
    const auto hf = test::ask_hugging_face(out, "text-classification", inputs, fs::path(dir_.path().toStdString()) / "hf-cls", &why);
    if (hf.empty()) QSKIP(qPrintable(why));
    Session saved(out, {BackendKind::Cpu});
    double worst = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const ClassifyResult ours = classify(saved.model(), saved.tokenizer(), texts[i]);
      for (const auto& entry : hf[i])
        for (const auto& s : ours.scores)
          if (s.label == entry["label"].get<std::string>()) worst = std::max(worst, std::fabs(s.score - entry["score"].get<double>()));
    }
    qInfo("fine-tuned classifier: largest probability difference from Hugging Face %.2e", worst);
    QVERIFY2(worst < 1e-4, qPrintable(QString("probability differs from Hugging Face by %1").arg(worst)));
  }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "test_training.moc"
