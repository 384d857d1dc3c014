// Question-answering training (issue 16): the *ForQuestionAnswering head's loss worked by hand (positions clamped to
// [0, T], T ignored, start and end averaged), its gradients against central finite differences (dropout on, DistilBERT's
// qa_dropout included) and PyTorch autograd (BERT, DistilBERT, RoBERTa; CPU and Vulkan), the head's dropout as Hugging
// Face's classes choose it, CPU and Vulkan training alike, run_qa's answer rules (n-best, max answer length, the null
// answer), the saved folder as a question-answering model in bertscope and PyTorch, and `bertscope-cli train --task qa`
// end to end: a tiny model trained for a short time on synthetic SQuAD files (scripts/synthetic_squad.py) beats the
// first-sentence and first-answer-span baselines on questions about names it never saw, by a clear margin; SQuAD v2.0
// files train and score with the null answer; --export-script writes the same job for Hugging Face's Trainer.
#include <QProcess>
#include <QElapsedTimer>
#include <QProcessEnvironment>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/json_io.h"
#include "cpu/cpu_backend.h"
#include "data/squad.h"
#include "model/bert_model.h"
#include "model/checkpoint.h"
#include "model/pretrained.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "text/unicode.h"
#include "train/optimizer.h"
#include "train/qa_fine_tune.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// Questions whose answers WordPiece and byte-level BPE both split into pieces ("Przybylski", "Xochimilco"), one
// answer cut off by the small windows below, and one question without an answer.
std::vector<QaExample> piece_examples() {
  auto example = [](std::string id, std::string question, std::string context, std::string answer) {
    QaExample e;
    e.id = std::move(id);
    e.question = std::move(question);
    e.context = std::move(context);
    if (!answer.empty()) e.answers.push_back({answer, static_cast<int>(e.context.find(answer))});
    return e;
  };
  return {example("a", "Who visited Xochimilco?", "John Przybylski visited Xochimilco in May.", "John Przybylski"),
          example("b", "Where does Marie live?", "Marie lives in Ouagadougou, far from the sea, with two unaffable cats "
                                                 "and a very old dog that sleeps all day long.", "Ouagadougou"),
          example("c", "What did the dog do?", "Marie lives in Ouagadougou, far from the sea, with two unaffable cats "
                                               "and a very old dog that sleeps all day long.", "sleeps all day long"),
          example("d", "Who won?", "Nobody remembers the weather.", "")};
}

// A padded batch of those questions' windows (24 tokens, sharing 6): some hold their answer, some are labelled at
// [CLS]. `odd_positions` also puts one start past T (ignored after clamping) and one end below 0 (clamped to 0), as
// Hugging Face's loss allows.
TrainBatch piece_batch(const Tokenizer& tokenizer, bool odd_positions = false) {
  static std::vector<QaFeature> features;
  features = qa_train_features(tokenizer, piece_examples(), 24, 6);
  std::vector<const QaFeature*> pointers;
  for (const QaFeature& f : features) pointers.push_back(&f);
  TrainBatch batch = qa_train_batch(tokenizer, pointers);
  if (odd_positions) {
    batch.labels[0] = batch.tokens.seq_len + 5;
    batch.labels[3] = -3;
  }
  return batch;
}

// Hugging Face's loss from (B*T, 2) logits, in double, written out independently of the trainer.
double hf_qa_loss(const std::vector<float>& logits, const std::vector<std::int32_t>& labels, int B, int T) {
  double total = 0;
  for (int side = 0; side < 2; ++side) {
    double sum = 0;
    int counted = 0;
    for (int b = 0; b < B; ++b) {
      const int y = std::clamp(labels[size_t(2 * b + side)], 0, T);
      if (y == T) continue;
      double z = 0;
      for (int t = 0; t < T; ++t) z += std::exp(double(logits[size_t((b * T + t) * 2 + side)]));
      sum += std::log(z) - logits[size_t((b * T + y) * 2 + side)];
      ++counted;
    }
    total += sum / counted / 2;
  }
  return total;
}

// The baselines a model must beat: the context's first sentence, and the first answer span of the context (of all
// its questions' answers, the one that starts first: right for the question about the first fact only).
std::map<std::string, SquadScores> baselines(const QaData& data) {
  std::map<std::string, int> first_start;  // context -> earliest answer_start
  std::map<std::string, std::string> first_text;
  for (const QaExample& e : data.examples)
    for (const QaAnswerSpan& a : e.answers)
      if (!first_start.count(e.context) || a.start < first_start[e.context]) {
        first_start[e.context] = a.start;
        first_text[e.context] = a.text;
      }
  std::map<std::string, QaPrediction> sentence, span;
  for (const QaExample& e : data.examples) {
    const size_t stop = e.context.find(". ");
    sentence[e.id].text = stop == std::string::npos ? e.context : e.context.substr(0, stop + 1);
    span[e.id].text = first_text[e.context];
  }
  return {{"first sentence", score_squad(data.examples, sentence, false)},
          {"first answer span", score_squad(data.examples, span, false)}};
}

std::string python_job(const fs::path& script) {  // the script's JOB literal, as JSON
  QProcess p;
  p.start("/usr/bin/python3", {"-c", "import importlib.util, json, sys\n"
                                     "spec = importlib.util.spec_from_file_location('job', sys.argv[1])\n"
                                     "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
                                     "print(json.dumps(m.JOB))", QString::fromStdString(script.string())});
  if (!p.waitForFinished(60000) || p.exitCode() != 0) return "python3 failed: " + p.readAllStandardError().toStdString();
  return p.readAllStandardOutput().toStdString();
}

fs::path oracle_script(const char* name) {
  return fs::path(BERTSCOPE_TEST_RESOURCES).parent_path() / "tests" / "oracle" / name;
}

fs::path project_script(const char* name) { return fs::path(BERTSCOPE_TEST_RESOURCES).parent_path() / "scripts" / name; }

}  // namespace

class TestQaTraining : public QObject {
  Q_OBJECT
  CpuBackend cpu_;
  std::unique_ptr<Backend> gpu_;
  QString noGpu_;
  QTemporaryDir dir_;
  fs::path tiny_;  // a tiny random BERT with bert-base-uncased's vocabulary

  fs::path path(const std::string& name) const { return fs::path(dir_.path().toStdString()) / name; }

  fs::path fixture(const char* name) {
    QString why;
    const fs::path fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty() || !fs::exists(fixtures / name)) return {};
    return fixtures / name;
  }

  // The CLI, with OpenMP's threads sleeping instead of spinning while they wait: on a shared 2-core machine spinning
  // threads make each training step take several times as long.
  int runCli(const QStringList& args, QByteArray* out, QByteArray* err) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("OMP_WAIT_POLICY", "passive");
    p.setProcessEnvironment(env);
    p.start(BERTSCOPE_CLI, args);
    if (!p.waitForFinished(300000)) return -1;
    *out = p.readAllStandardOutput();
    *err = p.readAllStandardError();
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  }

  static QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    gpu_ = test::vulkan_backend(&noGpu_);
    RandomModelSpec spec = test::small_bert_spec(3, 0.1f);
    spec.max_positions = 64;
    tiny_ = path("tiny");
    write_random_model(tiny_, spec);  // a masked-LM checkpoint: the trainer adds qa_outputs
  }

  // The batch's labels: [start, end] per window, the answer's own tokens where the window holds it, else [CLS].
  void batchLabelsTheAnswerTokens() {
    const Pretrained p = open_pretrained(tiny_);
    const std::vector<QaExample> examples = piece_examples();
    const std::vector<QaFeature> features = qa_train_features(*p.tokenizer, examples, 24, 6);
    std::vector<const QaFeature*> pointers;
    for (const QaFeature& f : features) pointers.push_back(&f);
    const TrainBatch batch = qa_train_batch(*p.tokenizer, pointers);
    QCOMPARE(batch.labels.size(), 2 * features.size());
    QCOMPARE(batch.tokens.batch, int(features.size()));
    int holding = 0, at_cls = 0;
    for (size_t i = 0; i < features.size(); ++i) {
      const int s = batch.labels[2 * i], e = batch.labels[2 * i + 1];
      QCOMPARE(s, features[i].start_position);
      QCOMPARE(e, features[i].end_position);
      const QaExample& ex = examples[features[i].example];
      if (s == 0) {
        QCOMPARE(e, 0);
        ++at_cls;
        continue;
      }
      ++holding;
      const Encoding& w = features[i].encoding;
      const std::u32string context = unicode::decode_utf8(ex.context);
      const std::string text = unicode::encode_utf8(context.substr(size_t(w.tokens[size_t(s)].start),
                                                                   size_t(w.tokens[size_t(e)].end - w.tokens[size_t(s)].start)));
      QCOMPARE(text, ex.answers[0].text);
    }
    QVERIFY2(holding >= 3 && at_cls >= 3, qPrintable(QString("%1 windows hold their answer, %2 at [CLS]").arg(holding).arg(at_cls)));
  }

  // The loss is Hugging Face's, from the head's own logits: clamping, the ignored index T, start and end averaged.
  void lossIsHuggingFaces() {
    TrainerOptions options;
    options.head = TrainHead::QuestionAnswering;
    options.dropout = 0.0f;  // the training forward then equals the evaluation forward
    BertTrainer trainer(tiny_, cpu_, options);
    const Pretrained p = open_pretrained(tiny_);
    const TrainBatch batch = piece_batch(*p.tokenizer, true);
    const std::vector<float> logits = trainer.qa_logits(batch.tokens);
    QCOMPARE(logits.size(), size_t(batch.tokens.batch) * batch.tokens.seq_len * 2);
    const double expected = hf_qa_loss(logits, batch.labels, batch.tokens.batch, batch.tokens.seq_len);
    const double loss = trainer.compute_gradients(batch);
    QVERIFY2(std::fabs(loss - expected) < 1e-6, qPrintable(QString("loss %1, by hand %2").arg(loss).arg(expected)));
    // A batch with no start position inside its windows has no loss to take the mean of.
    TrainBatch none = batch;
    for (size_t i = 0; i < none.labels.size(); i += 2) none.labels[i] = none.tokens.seq_len;
    QVERIFY_THROWS_EXCEPTION(Error, trainer.compute_gradients(none));
    // A trainer for questions has no labels to give; a labelled head still needs two.
    TrainerOptions classifier;
    QVERIFY_THROWS_EXCEPTION(Error, BertTrainer trainer2(tiny_, cpu_, classifier));
  }

  // Whole-model gradients of the QA loss against central differences of the loss itself, with dropout 0.1 (the same
  // masks each call: the step is set back). DistilBERT's head drops out its input (qa_dropout 0.1); BERT's does not.
  void gradientsMatchFiniteDifferences_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("BERT") << "tiny";
    QTest::newRow("DistilBERT, qa_dropout") << "distilbert_qa";
  }
  void gradientsMatchFiniteDifferences() {
    QFETCH(QString, model);
    fs::path folder = tiny_;
    if (model != "tiny") {
      folder = fixture("distilbert_qa");
      if (folder.empty()) QSKIP("no oracle fixtures");
    }
    TrainerOptions options;
    options.head = TrainHead::QuestionAnswering;
    options.dropout = 0.1f;
    options.seed = 4;
    BertTrainer trainer(folder, cpu_, options);
    const Pretrained p = open_pretrained(folder);
    const TrainBatch batch = piece_batch(*p.tokenizer, true);
    auto loss_at_step_one = [&] {
      trainer.set_step(0);
      return trainer.compute_gradients(batch);
    };
    loss_at_step_one();
    const bool distil = model != "tiny";
    const int H = trainer.config().hidden_size;
    struct Probe { std::string name; std::vector<size_t> elements; };
    const std::vector<Probe> probes = {
        {"qa_outputs.weight", {0, 5, size_t(H) + 3, size_t(2 * H - 1)}},
        {"qa_outputs.bias", {0, 1}},
        {distil ? "distilbert.transformer.layer.1.ffn.lin2.weight" : "bert.encoder.layer.1.output.dense.weight", {5, 700}},
        {distil ? "distilbert.transformer.layer.0.attention.q_lin.weight" : "bert.encoder.layer.0.attention.self.query.weight", {3, 500}},
        {distil ? "distilbert.embeddings.LayerNorm.weight" : "bert.embeddings.LayerNorm.weight", {7}},
        {distil ? "distilbert.embeddings.word_embeddings.weight" : "bert.embeddings.word_embeddings.weight",
         {size_t(batch.tokens.ids[2]) * size_t(H) + 1}},  // a token of the batch
    };
    std::map<std::string, std::vector<float>> analytic;
    for (const Probe& pr : probes) {
      const Param& param = trainer.param(pr.name);
      analytic[pr.name].resize(size_t(param.grad.numel()));
      cpu_.download(param.grad, analytic[pr.name]);
    }
    double worst = 0;
    for (const Probe& pr : probes) {
      Param* param = nullptr;
      for (auto& x : trainer.params())
        if (x->name == pr.name) param = x.get();
      std::vector<float> values(size_t(param->value.numel()));
      cpu_.download(param->value, values);
      for (size_t i : pr.elements) {
        const float h = 2e-3f, original = values[i];
        auto loss_with = [&](float v) {
          values[i] = v;
          param->value = cpu_.upload(std::span<const float>(values), param->value.shape());
          return loss_at_step_one();
        };
        const double numeric = (loss_with(original + h) - loss_with(original - h)) / (2.0 * h);
        loss_with(original);
        const double ours = analytic[pr.name][i];
        worst = std::max(worst, std::fabs(numeric - ours) / std::max(1e-2, std::fabs(numeric)));
        QVERIFY2(std::fabs(numeric - ours) < 2e-3 + 2e-2 * std::fabs(numeric),
                 qPrintable(QString("%1[%2]: backward %3, finite difference %4").arg(QString::fromStdString(pr.name)).arg(i).arg(ours).arg(numeric)));
      }
    }
    qInfo("QA head (%s), dropout 0.1: worst relative difference from central differences %.2e", qPrintable(model), worst);
  }

  // Every parameter's gradient against PyTorch autograd in float64 (tests/oracle/family_gradients.py: Hugging Face's
  // *ForQuestionAnswering loss over family_torch.py's modules), on windows from qa_train_features.
  void gradientsMatchPyTorch_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("backend");
    for (const char* m : {"qa_small", "distilbert_qa", "roberta_qa"})
      for (const char* b : {"cpu", "vulkan"}) QTest::newRow(qPrintable(QString("%1 %2").arg(m, b))) << m << b;
  }
  void gradientsMatchPyTorch() {
    QFETCH(QString, model);
    QFETCH(QString, backend);
    const std::string name = model.toStdString();
    const fs::path folder = fixture(name.c_str());
    if (folder.empty()) QSKIP(qPrintable(QString("no %1 fixture (oracle fixtures skipped, or roberta_SKIPPED)").arg(model)));
    if (backend == "vulkan" && !gpu_) QSKIP(qPrintable(noGpu_));
    Backend& b = backend == "cpu" ? static_cast<Backend&>(cpu_) : *gpu_;
    TrainerOptions options;
    options.head = TrainHead::QuestionAnswering;
    options.dropout = 0.0f;  // PyTorch's reference has no dropout
    const Pretrained p = open_pretrained(folder);
    const TrainBatch batch = piece_batch(*p.tokenizer, true);
    const fs::path batch_file = path("batch_" + name + ".json"), prefix = path("grads_" + name);
    if (!fs::exists(prefix.string() + ".json")) {  // once per model, for both backends
      test::write_train_batch(batch_file, batch, p.config.has_token_types());
      QString error;
      QVERIFY2(test::run_python(oracle_script("family_gradients.py"), {q(folder), q(batch_file), q(prefix)}, &error),
               qPrintable(error));
    }
    BertTrainer trainer(p, b, options);
    QCOMPARE(trainer.param("qa_outputs.weight").value.shape(), (Shape{2, trainer.config().hidden_size}));
    const double loss = trainer.compute_gradients(batch);
    const double expected = read_json_file(prefix.string() + ".json")["loss"].get<double>();
    QVERIFY2(std::fabs(loss - expected) < 1e-4 * std::max(1.0, expected), qPrintable(QString("loss %1 vs PyTorch %2").arg(loss).arg(expected)));
    const test::GradientComparison g = test::compare_gradients(trainer, prefix.string() + ".safetensors");
    QVERIFY2(g.missing.empty(), qPrintable(QString::fromStdString("PyTorch has no gradient for " + (g.missing.empty() ? "" : g.missing.front()))));
    QCOMPARE(g.compared, g.theirs);
    qInfo("%s on %s: %zu gradients, worst relative error %.2e (%s); loss %.6f vs %.6f", name.c_str(), b.name().c_str(),
          g.compared, g.worst, g.worst_name.c_str(), loss, expected);
    QVERIFY2(g.worst < 1e-4, qPrintable(QString("gradient of %1: relative error %2").arg(QString::fromStdString(g.worst_name)).arg(g.worst)));
    if (backend == "vulkan") QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
  }

  // DistilBERT's QA head drops out its input with qa_dropout (0.1 when config.json leaves it out); BERT's and
  // RoBERTa's have no dropout, so no config field changes their head. Same seed throughout.
  void headDropoutIsHuggingFaces() {
    const fs::path distil = fixture("distilbert_qa"), bert = fixture("qa_small");
    if (distil.empty() || bert.empty()) QSKIP("no oracle fixtures");
    auto loss_with = [&](const fs::path& source, const char* field, const nlohmann::json& value) {
      const fs::path copy = path(source.filename().string() + "-" + field + "-" + value.dump());
      fs::remove_all(copy);
      fs::copy(source, copy, fs::copy_options::recursive);
      nlohmann::json config = read_json_file(copy / "config.json");
      if (value.is_null()) config.erase(field);
      else config[field] = value;
      std::ofstream(copy / "config.json") << config.dump(2);
      TrainerOptions options;
      options.head = TrainHead::QuestionAnswering;
      options.dropout = 0.1f;
      options.seed = 9;
      BertTrainer trainer(copy, cpu_, options);
      const Pretrained p = open_pretrained(copy);
      return trainer.compute_gradients(piece_batch(*p.tokenizer));
    };
    QCOMPARE(loss_with(distil, "qa_dropout", nullptr), loss_with(distil, "qa_dropout", 0.1));  // the default
    QVERIFY(loss_with(distil, "qa_dropout", 0.0) != loss_with(distil, "qa_dropout", 0.1));
    QCOMPARE(loss_with(distil, "seq_classif_dropout", 0.0), loss_with(distil, "seq_classif_dropout", 0.5));
    QCOMPARE(loss_with(bert, "classifier_dropout", 0.0), loss_with(bert, "classifier_dropout", 0.5));
    // A value that is no dropout probability is refused, naming the field.
    try {
      loss_with(distil, "qa_dropout", 1.5);
      QFAIL("qa_dropout 1.5 accepted");
    } catch (const Error& e) {
      QVERIFY2(std::string(e.what()).find("qa_dropout") != std::string::npos, e.what());
    }
  }

  // Three AdamW steps with dropout on: CPU and Vulkan (lavapipe) give the same losses and weights.
  void bothBackendsTrainAlike() {
    if (!gpu_) QSKIP(qPrintable(noGpu_));
    const Pretrained p = open_pretrained(tiny_);
    std::vector<double> losses[2];
    std::vector<float> weights[2];
    int k = 0;
    for (Backend* b : {static_cast<Backend*>(&cpu_), gpu_.get()}) {
      TrainerOptions options;
      options.head = TrainHead::QuestionAnswering;
      options.seed = 2;
      BertTrainer trainer(p, *b, options);
      OptimizerOptions opt;
      opt.learning_rate = 1e-3f;
      AdamW adamw(trainer.params(), *b, opt);
      const TrainBatch batch = piece_batch(*p.tokenizer);
      for (int s = 0; s < 3; ++s) {
        losses[k].push_back(trainer.compute_gradients(batch));
        adamw.step();
      }
      const Param& w = trainer.param("qa_outputs.weight");
      weights[k].resize(size_t(w.value.numel()));
      b->download(w.value, weights[k]);
      ++k;
    }
    for (int s = 0; s < 3; ++s) QVERIFY2(std::fabs(losses[0][s] - losses[1][s]) < 1e-4, qPrintable(QString("step %1: %2 vs %3").arg(s).arg(losses[0][s]).arg(losses[1][s])));
    QVERIFY(test::normalised_error(weights[0], weights[1]) < 1e-4);
    qInfo("QA head, 3 steps with dropout: CPU losses %.6f %.6f %.6f, Vulkan %.6f %.6f %.6f", losses[0][0], losses[0][1],
          losses[0][2], losses[1][0], losses[1][1], losses[1][2]);
    QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
  }

  // A token classifier (DistilBERT, 5 labels) fine-tuned for questions saves as DistilBertForQuestionAnswering without
  // its labels (Hugging Face would size or refuse qa_outputs by them), loads in bertscope as a question answerer with
  // the trainer's logits, and never into a folder that holds something.
  void savesAQuestionAnsweringFolder() {
    const fs::path source = fixture("distilbert_token");
    if (source.empty()) QSKIP("no oracle fixtures");
    TrainerOptions options;
    options.head = TrainHead::QuestionAnswering;
    BertTrainer trainer(source, cpu_, options);
    const fs::path out = path("distilbert-qa-out");
    fs::create_directories(out);
    std::ofstream(out / "keep.txt") << "mine";
    QVERIFY_THROWS_EXCEPTION(Error, trainer.save(out));
    QVERIFY(fs::exists(out / "keep.txt"));
    fs::remove_all(out);
    trainer.save(out);
    const nlohmann::json config = read_json_file(out / "config.json");
    QCOMPARE(config["architectures"], nlohmann::json::array({"DistilBertForQuestionAnswering"}));
    QVERIFY(!config.contains("id2label") && !config.contains("label2id"));
    const Pretrained saved = open_pretrained(out);
    BertModel model(saved.config, Checkpoint(out), cpu_);
    QVERIFY(model.has_qa_head() && !model.has_token_classifier());
    const TrainBatch batch = piece_batch(*saved.tokenizer);
    // The saved model's weights are the trainer's; only the order of float32 sums differs (a loaded model's linear
    // layers run the packed kernel, packed_linear.h, the trainer's OpenBLAS).
    const double err = test::normalised_error(model.qa_logits(model.encode(batch.tokens).hidden), trainer.qa_logits(batch.tokens));
    QVERIFY2(err < 1e-5, qPrintable(QString::number(err)));
  }

  // run_qa's postprocessing on logits set by hand: spans start and end among the n_best highest logits, inside the
  // context, at most max_answer_len tokens; the best start + end logit wins; v2.0's null answer when the [CLS] score
  // is higher.
  void answersAsRunQaPicksThem() {
    const Pretrained p = open_pretrained(tiny_);
    const Tokenizer& t = *p.tokenizer;
    QaExample e;
    e.id = "x";
    e.question = "  who ran?";
    e.context = "The cat sat on the big red mat. A dog ran to the park.";
    const Encoding w = qa_windows(t, "who ran?", e.context, 384, 128).windows.at(0);
    auto at = [&](const char* text) {
      for (size_t i = 0; i < w.tokens.size(); ++i)
        if (w.tokens[i].text == text && w.tokens[i].sequence == 1) return int(i);
      return -1;
    };
    const int cat = at("cat"), dog = at("dog"), mat = at("mat"), park = at("park"), who = 1;
    QVERIFY(cat > 0 && dog > mat && park > dog);
    QCOMPARE(w.tokens[size_t(who)].text, std::string("who"));
    // Logits by token position (one window): every token -10 but these; [CLS] start and end each cls_score / 2.
    const std::map<int, float> start = {{who, 20}, {dog, 6}, {cat, 5.9f}}, end = {{who, 20}, {mat, 10}, {park, 1}};
    float cls_score = -50;
    const QaLogitsFn logits = [&](const TokenBatch& b) {
      std::vector<float> out(size_t(b.batch) * b.seq_len * 2, -10.0f);
      for (auto [i, v] : start) out[size_t(i) * 2] = v;
      for (auto [i, v] : end) out[size_t(i) * 2 + 1] = v;
      out[0] = out[1] = cls_score / 2;
      return out;
    };
    QaOptions o;
    o.max_answer_len = 30;
    // The question's "who" has the highest logits but never starts or ends an answer. With n_best 2 the pairs are
    // {who, dog} x {who, mat}: dog .. mat runs backwards, so no span qualifies.
    o.n_best = 2;
    QCOMPARE(predict_answer(logits, t, e, o, false).text, std::string(""));
    QCOMPARE(predict_answer(logits, t, e, o, false).no_answer_probability, 1.0);
    // With 3, cat .. mat (5.9 + 10) beats dog .. park (6 + 1) and cat .. park.
    o.n_best = 3;
    QCOMPARE(predict_answer(logits, t, e, o, false).text, std::string("cat sat on the big red mat"));
    o.max_answer_len = 5;  // cat .. mat is 7 tokens, dog .. park 5
    QCOMPARE(predict_answer(logits, t, e, o, false).text, std::string("dog ran to the park"));
    o.max_answer_len = 30;
    // The null answer: [CLS] start + end 17 against the best span's 15.9 (only for v2.0 data). [CLS]'s logits now
    // take one of the n_best places, as they do in run_qa.
    cls_score = 17;
    o.n_best = 4;
    const QaPrediction v2 = predict_answer(logits, t, e, o, true);
    QCOMPARE(v2.text, std::string(""));
    QVERIFY(std::fabs(v2.no_answer_probability - 1 / (1 + std::exp(15.9 - 17.0))) < 1e-6);
    QCOMPARE(predict_answer(logits, t, e, o, false).text, std::string("cat sat on the big red mat"));
  }

  // bertscope-cli train --task qa on synthetic SQuAD files (scripts/synthetic_squad.py): a 3-layer model of 64 units,
  // random but for sinusoidal positions, trained for two short epochs, answers the test split's questions (held-out
  // people and sentence templates, new contexts; --known-values: answers from the training lists, which a model
  // trained from scratch needs) far better than the context's first sentence or its first answer span. The folder is
  // a BertForQuestionAnswering that bertscope and PyTorch load and that gives the same logits in both.
  void cliLearnsToAnswer() {
    const fs::path data = path("synthetic");
    QString error;
    QVERIFY2(test::run_python(project_script("synthetic_squad.py"),
                              {q(data), "--train", "1200", "--validation", "20", "--test", "100", "--seed", "1", "--known-values"},
                              &error), qPrintable(error));
    RandomModelSpec spec;
    spec.vocab_file = std::string(BERTSCOPE_TEST_RESOURCES) + "/default-model/vocab.txt";
    spec.layers = 3;
    spec.hidden = 64;
    spec.heads = 4;
    spec.intermediate = 128;
    spec.max_positions = 128;
    spec.sinusoidal_positions = true;  // relative positions to learn from the start
    spec.seed = 3;
    const fs::path model = path("reader");
    write_random_model(model, spec);
    QByteArray stdout_, stderr_;
    const QStringList common = {"--task", "qa", "--train", q(data / "synthetic-squad-train.json"), "--backend", "cpu", "--seed", "1"};
    // A folder of the user's is refused before any training.
    fs::create_directories(path("documents"));
    std::ofstream(path("documents") / "notes.txt") << "precious";
    QVERIFY(runCli(QStringList{"train", q(model), "--out", q(path("documents"))} + common, &stdout_, &stderr_) != 0);
    QVERIFY2(stderr_.contains("documents") && !stderr_.contains("epoch 1"), stderr_.constData());
    QVERIFY(fs::exists(path("documents") / "notes.txt"));

    const fs::path out = path("reader-qa");
    QElapsedTimer timer;
    timer.start();
    // The embeddings and the lowest layer stay random (--freeze 1): the model cannot learn which words are answers by
    // their vectors and has to read around them.
    const int rc = runCli(QStringList{"train", q(model), "--out", q(out), "--validation", q(data / "synthetic-squad-validation.json"),
                                      "--epochs", "3", "--lr", "5e-3", "--batch-size", "32", "--dropout", "0", "--freeze", "1"} + common,
                          &stdout_, &stderr_);
    QVERIFY2(rc == 0, stderr_.constData());
    const double seconds = timer.elapsed() / 1000.0;
    QVERIFY2(stderr_.contains("windows of 128 tokens, the model's length") && stderr_.contains("validation exact match"), stderr_.constData());
    const nlohmann::json result = nlohmann::json::parse(stdout_.toStdString());
    QCOMPARE(result["version"].get<std::string>(), std::string("v1.1"));
    QCOMPARE(result["max_seq_length"].get<int>(), 128);
    QCOMPARE(result["doc_stride"].get<int>(), 42);  // 128 of run_qa's 384 scaled to the model's 128
    QCOMPARE(result["epochs"].size(), size_t(3));
    QVERIFY(result["validation"].contains("exact_match") && result["validation"].contains("f1"));

    QVERIFY(runCli({"evaluate", q(out), "--task", "qa", "--data", q(data / "synthetic-squad-test.json"), "--backend", "cpu"},
                   &stdout_, &stderr_) == 0);
    const nlohmann::json test = nlohmann::json::parse(stdout_.toStdString());
    QCOMPARE(test.size(), size_t(2));  // {"exact_match", "f1"}, as the v1.1 script prints
    const double em = test["exact_match"], f1 = test["f1"];
    const auto base = baselines(read_qa_file(data / "synthetic-squad-test.json"));
    const SquadScores& sentence = base.at("first sentence");
    const SquadScores& span = base.at("first answer span");
    qInfo("synthetic SQuAD test split (%d questions, held-out people and templates): model EM %.1f F1 %.1f; first "
          "sentence EM %.1f F1 %.1f; first answer span EM %.1f F1 %.1f; validation (held-out answers too) EM %.1f F1 %.1f; "
          "training %.1f s",
          sentence.total, em, f1, sentence.exact, sentence.f1, span.exact, span.f1,
          result["validation"]["exact_match"].get<double>(), result["validation"]["f1"].get<double>(), seconds);
    QVERIFY2(em >= span.exact + 20 && f1 >= span.f1 + 20 && f1 >= sentence.f1 + 30,
             qPrintable(QString("EM %1 F1 %2 against the first answer span's %3 / %4").arg(em).arg(f1).arg(span.exact).arg(span.f1)));
    // scripts/qa_baseline.py, which the README's numbers come from, scores the baselines as bertscope does.
    QProcess script;
    script.start("/usr/bin/python3", {q(project_script("qa_baseline.py")), q(data / "synthetic-squad-test.json")});
    QVERIFY(script.waitForFinished(60000) && script.exitCode() == 0);
    const nlohmann::json scripted = nlohmann::json::parse(script.readAllStandardOutput().toStdString());
    QCOMPARE(scripted["questions"].get<int>(), span.total);
    for (const auto& [key, scores] : {std::pair{"first_sentence", &sentence}, {"first_answer_span", &span}}) {
      QVERIFY(std::fabs(scripted[key]["exact_match"].get<double>() - scores->exact) < 1e-9);
      QVERIFY(std::fabs(scripted[key]["f1"].get<double>() - scores->f1) < 1e-9);
    }

    // The folder: a question-answering model for bertscope and for PyTorch, with the same logits.
    const nlohmann::json config = read_json_file(out / "config.json");
    QCOMPARE(config["architectures"], nlohmann::json::array({"BertForQuestionAnswering"}));
    QVERIFY(!config.contains("id2label") && !config.contains("bertscope_untrained"));
    const Pretrained saved = open_pretrained(out);
    BertModel reader(saved.config, Checkpoint(out), cpu_);
    QVERIFY(reader.has_qa_head() && !reader.has_classifier());
    const TrainBatch batch = piece_batch(*saved.tokenizer);
    const std::vector<float> ours = reader.qa_logits(reader.encode(batch.tokens).hidden);
    QString why;
    if (test::oracle_fixtures(&why).empty()) QSKIP(qPrintable(why));
    const fs::path batch_file = path("cli-batch.json"), answer = path("cli-torch.json");
    test::write_train_batch(batch_file, batch, true);
    QVERIFY2(test::run_python(oracle_script("family_logits.py"), {q(out), q(batch_file), q(answer)}, &error), qPrintable(error));
    const nlohmann::json theirs = read_json_file(answer);
    QCOMPARE(theirs["architecture"].get<std::string>(), std::string("BertForQuestionAnswering"));
    QVERIFY2(theirs["notes"].empty(), theirs["notes"].dump().c_str());  // no tensor left over
    std::vector<float> expected;
    for (const auto& window : theirs["logits"])
      for (const auto& token : window)
        for (const auto& v : token) expected.push_back(v.get<float>());
    QCOMPARE(expected.size(), ours.size());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, double(std::fabs(ours[i] - expected[i])));
    qInfo("saved QA model: start/end logits vs PyTorch, largest difference %.2e over %zu values", worst, ours.size());
    QVERIFY2(worst < 1e-4, qPrintable(QString("logits differ from PyTorch's by %1").arg(worst)));
  }

  // SQuAD v2.0 data (questions without an answer) trains with them labelled at [CLS] and scores with the null answer
  // and the v2.0 report; --validation as a share holds out whole contexts.
  void cliTrainsSquadV2() {
    const fs::path data = path("synthetic-v2");
    QString error;
    QVERIFY2(test::run_python(project_script("synthetic_squad.py"),
                              {q(data), "--train", "40", "--validation", "1", "--test", "1", "--unanswerable", "0.3"}, &error),
             qPrintable(error));
    const QaData train = read_qa_file(data / "synthetic-squad-train.json");
    QVERIFY(train.has_unanswerable);
    QByteArray stdout_, stderr_;
    const int rc = runCli({"train", q(tiny_), "--task", "qa", "--train", q(data / "synthetic-squad-train.json"), "--validation",
                           "0.25", "--out", q(path("v2-out")), "--epochs", "1", "--backend", "cpu", "--max-seq-length", "64"},
                          &stdout_, &stderr_);
    QVERIFY2(rc == 0, stderr_.constData());
    QVERIFY2(stderr_.contains("10 of 40 contexts held out") && stderr_.contains("SQuAD v2.0"), stderr_.constData());
    const nlohmann::json result = nlohmann::json::parse(stdout_.toStdString());
    QCOMPARE(result["version"].get<std::string>(), std::string("v2.0"));
    for (const char* key : {"exact", "f1", "HasAns_exact", "NoAns_exact", "NoAns_total", "best_f1", "best_f1_thresh"})
      QVERIFY2(result["validation"].contains(key), key);
    QCOMPARE(result["train_questions"].get<int>() + result["validation_questions"].get<int>(), int(train.examples.size()));
  }

  // --export-script writes the job for Hugging Face's Trainer instead of training: valid Python whose JOB carries the
  // task, data, labels and settings of the command; never over an existing file, and no model folder is made.
  void cliExportsTrainingScripts() {
    const fs::path data = path("synthetic");  // cliLearnsToAnswer's
    if (!fs::exists(data / "synthetic-squad-train.json")) QSKIP("needs cliLearnsToAnswer's files");
    std::ofstream(path("tags.conll")) << "John B-PER\nlives O\nin O\nParis B-LOC\n\nMarie B-PER\nsmiled O\n";
    std::ofstream(path("reviews.tsv")) << "text\tlabel\ngreat food\tpos\nawful service\tneg\nlovely\tpos\n";
    struct Case { QStringList args; nlohmann::json expected; };
    const std::vector<Case> cases = {
        {{"--task", "qa", "--train", q(data / "synthetic-squad-train.json"), "--validation", "0.1", "--max-seq-length", "256",
          "--doc-stride", "64"},
         {{"task", "qa"}, {"train_file", (data / "synthetic-squad-train.json").string()}, {"validation_share", 0.1},
          {"max_length", 64}, {"doc_stride", 21}}},  // the windows of this model: 64 tokens, sharing a third
        {{"--task", "ner", "--train", q(path("tags.conll")), "--validation", q(path("tags.conll")), "--max-length", "64"},
         {{"task", "ner"}, {"validation_file", path("tags.conll").string()}, {"labels", {"B-LOC", "B-PER", "O"}},
          {"max_length", 64}}},
        {{"--csv", q(path("reviews.tsv")), "--text-column", "text", "--label-column", "label"},
         {{"task", "classification"}, {"delimiter", "\t"}, {"has_header", true}, {"labels", {"neg", "pos"}},
          {"validation_share", 0.2}, {"text_column", "text"}}},
    };
    int n = 0;
    for (const Case& c : cases) {
      const fs::path script = path("train-" + std::to_string(n++) + ".py"), out = path("never-made");
      QByteArray stdout_, stderr_;
      const QStringList args = QStringList{"train", q(tiny_), "--out", q(out), "--export-script", q(script), "--epochs", "4",
                                           "--lr", "1e-4", "--seed", "7"} + c.args;
      QVERIFY2(runCli(args, &stdout_, &stderr_) == 0, stderr_.constData());
      QVERIFY2(!stderr_.contains("epoch") && !fs::exists(out), stderr_.constData());
      const std::string job_text = python_job(script);
      const nlohmann::json job = nlohmann::json::parse(job_text, nullptr, false);
      QVERIFY2(!job.is_discarded(), job_text.c_str());
      QCOMPARE(job["model"].get<std::string>(), tiny_.string());
      QCOMPARE(job["out"].get<std::string>(), out.string());
      QCOMPARE(job["epochs"].get<int>(), 4);
      QCOMPARE(job["seed"].get<int>(), 7);
      QVERIFY(std::fabs(job["learning_rate"].get<double>() - 1e-4) < 1e-9);
      for (const auto& [key, value] : c.expected.items())
        QVERIFY2(value.is_number_float() ? std::fabs(job[key].get<double>() - value.get<double>()) < 1e-6 : job[key] == value,
                 qPrintable(QString::fromStdString(key + ": " + job[key].dump() + ", expected " + value.dump())));
      QProcess compile;
      compile.start("/usr/bin/python3", {"-m", "py_compile", q(script)});
      QVERIFY(compile.waitForFinished(60000) && compile.exitCode() == 0);
      // The same command again: the script is there now, and stays as it was.
      const auto before = fs::last_write_time(script);
      QVERIFY(runCli(args, &stdout_, &stderr_) != 0);
      QVERIFY2(stderr_.contains(QByteArray::fromStdString(script.filename().string())), stderr_.constData());
      QVERIFY(fs::last_write_time(script) == before);
    }
  }
};

QTEST_GUILESS_MAIN(TestQaTraining)
#include "test_qa_training.moc"
