// Training a whole model: bertscope's gradients against PyTorch autograd (float64) on Hugging Face models of every
// family (BERT by hf-oracle, DistilBERT and RoBERTa by tests/oracle/family_torch.py), classification and masked-LM
// heads, on both backends; a few AdamW steps lower the loss; frozen layers stay put; a saved model loads back and
// predicts what the trainer predicted; a fine-tuned DistilBERT or RoBERTa saves as its own family and PyTorch loads
// it and predicts what bertscope does; saving never destroys a folder that is not a model.
#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/json_io.h"
#include "cpu/cpu_backend.h"
#include "model/bert_model.h"
#include "model/checkpoint.h"
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

std::vector<std::string> labels_of(const fs::path& model) {
  const ModelConfig c = ModelConfig::load(model / "config.json");
  std::vector<std::string> labels;
  for (const auto& [id, label] : c.id2label) labels.push_back(label);
  if (labels.empty()) labels = {"LABEL_0", "LABEL_1"};
  return labels;
}

// The gradient fixtures of a test row ("bert_cls", "distilbert_mlm", ...): the model folder, the batch, and
// PyTorch's loss (NAME.json) and gradients (NAME.safetensors).
struct GradientCase {
  std::string model, batch, grads;
};
GradientCase gradient_case(const std::string& row) {
  if (row == "bert_cls") return {"cls_small", "grad_batch_cls.json", "grads_cls"};  // hf-oracle's, torch_gradients.py
  if (row == "bert_mlm") return {"mlm_small", "grad_batch_mlm.json", "grads_mlm"};
  return {row, "grad_batch_" + row + ".json", "grads_" + row};  // family_torch.py's, family_gradients.py
}

std::vector<float> flatten(const nlohmann::json& j) {
  if (j.is_number()) return {j.get<float>()};
  std::vector<float> out;
  for (const auto& x : j) {
    const auto part = flatten(x);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

}  // namespace

class TestTraining : public QObject {
  Q_OBJECT
  CpuBackend cpu_;
  std::unique_ptr<Backend> gpu_;
  QString noGpu_;
  QTemporaryDir dir_;

  // Every parameter's gradient against PyTorch's, relative to the largest |gradient| of that tensor (or 1), and no
  // PyTorch gradient left unchecked.
  void compareWithTorch(Backend& backend, const std::string& row) {
    QString why;
    const fs::path fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    const GradientCase c = gradient_case(row);
    const fs::path model = fixtures / c.model;
    if (row.starts_with("roberta") && !fs::exists(model)) QSKIP("no RoBERTa fixtures (see roberta_SKIPPED)");
    QVERIFY2(fs::exists(fixtures / (c.grads + ".safetensors")),
             qPrintable(QString::fromStdString("no " + c.grads + ".safetensors in " + fixtures.string() +
                                               ": the fixtures predate it (rerun ctest -R oracle_fixtures)")));
    const bool mlm = row.ends_with("mlm");
    TrainerOptions options;
    options.head = mlm ? TrainHead::MaskedLM : TrainHead::SequenceClassification;
    if (!mlm) options.labels = labels_of(model);
    options.dropout = 0.0f;  // PyTorch's reference has no dropout
    BertTrainer trainer(model, backend, options);
    const double loss = trainer.compute_gradients(test::read_train_batch(fixtures / c.batch));
    const auto expected_loss = nlohmann::json::parse(std::ifstream(fixtures / (c.grads + ".json")))["loss"].get<double>();
    QVERIFY2(std::fabs(loss - expected_loss) < 1e-4 * std::max(1.0, expected_loss),
             qPrintable(QString("loss %1 vs PyTorch %2").arg(loss).arg(expected_loss)));
    const test::GradientComparison g = test::compare_gradients(trainer, fixtures / (c.grads + ".safetensors"));
    QVERIFY2(g.missing.empty(), qPrintable(QString::fromStdString("PyTorch has no gradient for " + (g.missing.empty() ? "" : g.missing.front()))));
    QVERIFY2(g.compared == g.theirs, qPrintable(QString("compared %1 gradients, PyTorch has %2").arg(g.compared).arg(g.theirs)));
    qInfo("%s on %s: %zu gradients, worst relative error %.2e (%s); loss %.6f vs %.6f", row.c_str(),
          backend.name().c_str(), g.compared, g.worst, g.worst_name.c_str(), loss, expected_loss);
    QVERIFY2(g.worst < 1e-4, qPrintable(QString("gradient of %1: relative error %2").arg(QString::fromStdString(g.worst_name)).arg(g.worst)));
  }

  fs::path makeClassifier(const std::string& name) {
    RandomModelSpec spec = test::small_bert_spec(5, 0.1f);
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

  void gradientsMatchPyTorch_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("backend");
    for (const char* m : {"bert_cls", "bert_mlm", "distilbert_cls", "distilbert_mlm", "roberta_cls", "roberta_mlm"})
      for (const char* b : {"cpu", "vulkan"}) QTest::newRow(qPrintable(QString("%1 %2").arg(m, b))) << m << b;
  }
  void gradientsMatchPyTorch() {
    QFETCH(QString, model);
    QFETCH(QString, backend);
    if (backend == "cpu") return compareWithTorch(cpu_, model.toStdString());
    if (!gpu_) QSKIP(qPrintable(noGpu_));
    compareWithTorch(*gpu_, model.toStdString());
    QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
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
    // Saving over it again is refused (bertscope never replaces a folder, an earlier model included) and leaves it
    // byte for byte; so is a folder that is not a model.
    auto slurp = [](const fs::path& f) { std::ifstream in(f, std::ios::binary); return std::string(std::istreambuf_iterator<char>(in), {}); };
    const std::string weights = slurp(out / "model.safetensors");
    QVERIFY_THROWS_EXCEPTION(std::exception, trainer.save(out));
    QVERIFY(slurp(out / "model.safetensors") == weights);
    const fs::path documents = fs::path(dir_.path().toStdString()) / "documents";
    fs::create_directories(documents);
    std::ofstream(documents / "thesis.txt") << "precious";
    QVERIFY_THROWS_EXCEPTION(std::exception, trainer.save(documents));
    QVERIFY(fs::exists(documents / "thesis.txt"));
  }

  // config.json's numbers as a person reads them: a value that went through a float (bertscope's default model was
  // written so: 0.10000000149011612) is saved as its short decimal, 0.1; a number that is not a float's stays.
  void savedConfigWritesShortDecimals() {
    const fs::path model = makeClassifier("float-config");
    nlohmann::json config = read_json_file(model / "config.json");
    QVERIFY(config.dump().find("9.999999960041972e-13") == std::string::npos);  // a made model's layer_norm_eps 1e-12f
    config["hidden_dropout_prob"] = double(0.1f);
    config["attention_probs_dropout_prob"] = double(0.1f);
    config["initializer_range"] = 0.02;       // a double, not a float's: kept
    config["some_tool_value"] = 0.123456789012345;
    std::ofstream(model / "config.json") << config.dump(2);
    QVERIFY(config.dump().find("0.10000000149011612") != std::string::npos);
    TrainerOptions options;
    options.labels = {"negative", "positive"};
    const fs::path out = fs::path(dir_.path().toStdString()) / "float-config-out";
    BertTrainer(model, cpu_, options).save(out);
    std::ifstream in(out / "config.json");
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    QVERIFY2(text.find("\"hidden_dropout_prob\": 0.1,") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"attention_probs_dropout_prob\": 0.1,") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"layer_norm_eps\": 1e-12,") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"initializer_range\": 0.02,") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"some_tool_value\": 0.123456789012345,") != std::string::npos, text.c_str());
    QVERIFY(text.find("0000000") == std::string::npos);
    QCOMPARE(ModelConfig::load(out / "config.json").layer_norm_eps, 1e-12f);
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

  // Fine-tune a DistilBERT / RoBERTa classifier a few steps (dropout on), save it: the folder is the family's
  // (architectures, config fields, tokenizer files, tensor names), PyTorch (family_torch.py) loads it with nothing
  // missing or left over, and its logits for a fixed padded batch are bertscope's.
  void fineTunedFamilyLoadsInPyTorch_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("architecture");
    QTest::addColumn<QStringList>("labels");
    // DistilBERT with labels of its own (a new classifier on the checkpoint's pre_classifier); RoBERTa keeps its head.
    QTest::newRow("distilbert_cls") << "distilbert_cls" << "DistilBertForSequenceClassification" << QStringList{"bad", "good"};
    QTest::newRow("roberta_cls") << "roberta_cls" << "RobertaForSequenceClassification"
                                 << QStringList{"NEGATIVE", "NEUTRAL", "POSITIVE"};
  }
  void fineTunedFamilyLoadsInPyTorch() {
    QFETCH(QString, model);
    QFETCH(QString, architecture);
    QFETCH(QStringList, labels);
    QString why;
    const fs::path fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    const fs::path source = fixtures / model.toStdString();
    if (model.startsWith("roberta") && !fs::exists(source)) QSKIP("no RoBERTa fixtures (see roberta_SKIPPED)");
    const bool roberta = model.startsWith("roberta");
    const fs::path batch_file = fixtures / ("grad_batch_" + model.toStdString() + ".json");  // padded; RoBERTa's with <pad>
    QVERIFY2(fs::exists(batch_file), qPrintable(QString::fromStdString(batch_file.string() + " missing: rerun ctest -R oracle_fixtures")));
    const TrainBatch batch = test::read_train_batch(batch_file);

    TrainerOptions options;
    for (const QString& l : labels) options.labels.push_back(l.toStdString());
    options.seed = 7;
    BertTrainer trainer(source, cpu_, options);
    OptimizerOptions opt;
    opt.learning_rate = 1e-3f;
    AdamW adamw(trainer.params(), cpu_, opt);
    double first = 0, last = 0;
    for (int s = 0; s < 5; ++s) {
      last = trainer.compute_gradients(batch);
      adamw.step();
      if (s == 0) first = last;
    }
    const fs::path out = fs::path(dir_.path().toStdString()) / (model.toStdString() + "-fine-tuned");
    trainer.save(out);

    // config.json: the family's class, every field of the source config kept, the new labels.
    const nlohmann::json before = read_json_file(source / "config.json"), after = read_json_file(out / "config.json");
    QCOMPARE(after["architectures"], nlohmann::json::array({architecture.toStdString()}));
    for (const auto& [key, value] : before.items()) {
      if (key == "architectures" || key == "id2label" || key == "label2id") continue;
      QVERIFY2(after.contains(key) && after[key] == value, qPrintable(QString::fromStdString("config field " + key + " not kept")));
    }
    for (const char* key : roberta ? std::vector<const char*>{"hidden_size", "num_hidden_layers", "type_vocab_size", "pad_token_id",
                                                              "max_position_embeddings", "layer_norm_eps"}
                                   : std::vector<const char*>{"dim", "n_layers", "n_heads", "hidden_dim", "activation"})
      QVERIFY2(after.contains(key), key);
    QCOMPARE(after["model_type"], before["model_type"]);
    for (int i = 0; i < labels.size(); ++i) {
      QCOMPARE(after["id2label"][std::to_string(i)].get<std::string>(), labels[i].toStdString());
      QCOMPARE(after["label2id"][labels[i].toStdString()].get<int>(), i);
    }
    // The tokenizer files, byte for byte.
    for (const char* file : roberta ? std::vector<const char*>{"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"}
                                    : std::vector<const char*>{"vocab.txt", "tokenizer.json", "tokenizer_config.json"}) {
      QVERIFY2(fs::exists(out / file), file);
      auto slurp = [](const fs::path& f) { std::ifstream in(f, std::ios::binary); return std::string(std::istreambuf_iterator<char>(in), {}); };
      QVERIFY2(slurp(out / file) == slurp(source / file), file);
    }
    // The tensors: exactly the trainer's parameters, under the family's names.
    const std::string base = roberta ? "roberta." : "distilbert.";
    SafetensorsFile saved_tensors(out / "model.safetensors");
    QCOMPARE(saved_tensors.tensors().size(), trainer.params().size());
    for (const auto& [name, info] : saved_tensors.tensors())
      QVERIFY2(name.starts_with(base) || name.starts_with("classifier.") || name.starts_with("pre_classifier."), name.c_str());

    // bertscope's logits on the saved folder (and the trainer's own, which must be the same).
    const ModelConfig config = ModelConfig::load(out / "config.json");
    BertModel saved(config, Checkpoint(out), cpu_);
    QCOMPARE(saved.num_labels(), int(labels.size()));
    const EncoderOutput encoded = saved.encode(batch.tokens);
    const std::vector<float> ours = saved.classifier_logits(encoded.hidden, batch.tokens.batch, batch.tokens.seq_len);
    const double trainer_error = test::normalised_error(trainer.classification_logits(batch.tokens), ours);
    QVERIFY2(trainer_error < 1e-5, qPrintable(QString("the trainer's logits differ from the saved model's by %1").arg(trainer_error)));

    // PyTorch's, on the same folder.
    const fs::path script = fs::path(BERTSCOPE_TEST_RESOURCES).parent_path() / "tests" / "oracle" / "family_logits.py";
    const fs::path answer = fs::path(dir_.path().toStdString()) / (model.toStdString() + "-torch-logits.json");
    QProcess torch;
    torch.start("/usr/bin/python3", {QString::fromStdString(script.string()), QString::fromStdString(out.string()),
                                     QString::fromStdString(batch_file.string()), QString::fromStdString(answer.string())});
    QVERIFY2(torch.waitForFinished(300000) && torch.exitStatus() == QProcess::NormalExit && torch.exitCode() == 0,
             qPrintable("family_logits.py failed on the saved folder: " + QString::fromUtf8(torch.readAllStandardError())));
    const nlohmann::json theirs = read_json_file(answer);
    QCOMPARE(theirs["architecture"].get<std::string>(), architecture.toStdString());
    QVERIFY2(theirs["notes"].empty(), theirs["notes"].dump().c_str());  // no unused tensor, no untied decoder
    const std::vector<float> expected = flatten(theirs["logits"]);
    QCOMPARE(expected.size(), ours.size());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, double(std::fabs(ours[i] - expected[i])));
    qInfo("%s: loss %.4f -> %.4f over 5 steps (dropout 0.1: noisy); saved folder's logits vs PyTorch: largest difference %.2e", qPrintable(model),
          first, last, worst);
    QVERIFY2(worst < 1e-4, qPrintable(QString("logits differ from PyTorch's by %1").arg(worst)));
  }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "test_training.moc"
