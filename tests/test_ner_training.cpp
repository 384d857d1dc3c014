// Token-classification training (issue 15): run_ner's labels (the first piece of each word carries its tag, every
// other piece, special token and pad -100; the tag list sorted), the token-classification head's gradients against
// central finite differences (dropout on) and PyTorch autograd (BERT, DistilBERT, RoBERTa, words split into pieces,
// CPU and Vulkan), the head's dropout as Hugging Face's classes choose it, CPU and Vulkan training alike, scores for
// tags that are not entities, and `bertscope-cli train --task ner` end to end: a tiny random model's loss falls on a
// tiny CoNLL file, its folder says BertForTokenClassification with id2label, and PyTorch gives the same per-token
// logits as bertscope on it.
#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/json_io.h"
#include "cpu/cpu_backend.h"
#include "data/tagged.h"
#include "model/bert_model.h"
#include "model/checkpoint.h"
#include "model/pretrained.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "train/optimizer.h"
#include "train/token_fine_tune.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// Words that WordPiece and GPT-2's byte-level BPE both split into several pieces ("Przybylski": pr ##zy ##by ##ls ##ki,
// Ġ Pr zy by ls ki), a one-word sentence, and tags of both entity types.
const char* kPieceSentences =
    "John B-PER\nPrzybylski I-PER\nvisited O\nunaffable O\nXochimilco B-LOC\n. O\n\n"
    "Marie B-PER\nlives O\nin O\nOuagadougou B-LOC\n\n"
    "hello O\n";

// A tiny CoNLL training file: names and places in a few frames (-DOCSTART- and IOB2 tags, as CoNLL-2003 has them).
std::string tiny_conll(int copies) {
  const char* frames[] = {"{P} lives in {L} .", "{P} visited {L} yesterday .", "we met {P} in {L} .", "{L} is far from {L} ."};
  const char* people[] = {"John Smith", "Marie", "Anna Lee", "Bob"};
  const char* places[] = {"Paris", "New York", "Berlin", "Oslo"};
  std::string out = "-DOCSTART- O\n\n";
  for (int c = 0; c < copies; ++c)
    for (int f = 0; f < 4; ++f) {
      std::istringstream words(frames[f]);
      int slot = 0;
      for (std::string w; words >> w;) {
        if (w != "{P}" && w != "{L}") {
          out += w + " O\n";
          continue;
        }
        const std::string name = w == "{P}" ? people[(c + f + slot) % 4] : places[(c + 2 * f + slot) % 4];
        const std::string type = w == "{P}" ? "PER" : "LOC";
        std::istringstream parts(name);
        bool first = true;
        for (std::string p; parts >> p; first = false) out += p + (first ? " B-" : " I-") + type + "\n";
        ++slot;
      }
      out += "\n";
    }
  return out;
}

std::map<std::string, int> ids_of(const std::vector<std::string>& labels) {
  std::map<std::string, int> ids;
  for (size_t i = 0; i < labels.size(); ++i) ids[labels[i]] = int(i);
  return ids;
}

std::vector<std::string> labels_of(const fs::path& model) {
  std::vector<std::string> labels;
  for (const auto& [id, label] : ModelConfig::load(model / "config.json").id2label) labels.push_back(label);
  return labels;
}

std::vector<const TaggedSentence*> pointers(const std::vector<TaggedSentence>& s) {
  std::vector<const TaggedSentence*> out;
  for (const auto& x : s) out.push_back(&x);
  return out;
}

fs::path oracle_script(const char* name) {
  return fs::path(BERTSCOPE_TEST_RESOURCES).parent_path() / "tests" / "oracle" / name;
}

}  // namespace

class TestNerTraining : public QObject {
  Q_OBJECT
  CpuBackend cpu_;
  std::unique_ptr<Backend> gpu_;
  QString noGpu_;
  QTemporaryDir dir_;
  fs::path tiny_;                                   // a tiny random BERT with bert-base-uncased's vocabulary
  std::map<std::string, fs::path> torchGradients_;  // fixture model -> PyTorch's gradients on pieceBatch

  fs::path path(const std::string& name) const { return fs::path(dir_.path().toStdString()) / name; }

  std::vector<TaggedSentence> pieceSentences() const { return parse_tagged(kPieceSentences, "pieces").sentences; }

  // The same batch, labelled for `labels` (tags outside them read as O).
  TrainBatch pieceBatch(const Tokenizer& tokenizer, const std::vector<std::string>& labels) const {
    std::vector<TaggedSentence> sentences = pieceSentences();
    const auto ids = ids_of(labels);
    for (auto& s : sentences)
      for (auto& t : s.tags)
        if (!ids.count(t)) t = "O";
    return tagged_batch(tokenizer, pointers(sentences), ids, 64, "pieces");
  }

  int runCli(const QStringList& args, QByteArray* out, QByteArray* err) {
    QProcess p;
    p.start(BERTSCOPE_CLI, args);
    if (!p.waitForFinished(120000)) return -1;
    *out = p.readAllStandardOutput();
    *err = p.readAllStandardError();
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    gpu_ = test::vulkan_backend(&noGpu_);
    RandomModelSpec spec = test::small_bert_spec(3, 0.1f);
    spec.max_positions = 64;
    tiny_ = path("tiny");
    write_random_model(tiny_, spec);  // a masked-LM checkpoint: the trainer adds the token classifier
  }

  // run_ner's tokenize_and_align_labels: [CLS] and [SEP] -100, a word's first piece its tag, the rest -100, pads -100.
  void firstPieceCarriesTheTag_data() {
    QTest::addColumn<QString>("model");
    QTest::newRow("WordPiece") << "tiny";
    QTest::newRow("byte-level BPE") << "roberta_token";
  }
  void firstPieceCarriesTheTag() {
    QFETCH(QString, model);
    fs::path folder = tiny_;
    if (model != "tiny") {
      QString why;
      const fs::path fixtures = test::oracle_fixtures(&why);
      if (fixtures.empty()) QSKIP(qPrintable(why));
      folder = fixtures / model.toStdString();
      if (!fs::exists(folder)) QSKIP("no RoBERTa fixtures (see roberta_SKIPPED)");
    }
    const Pretrained p = open_pretrained(folder);
    const std::vector<std::string> labels = {"B-LOC", "B-PER", "I-PER", "O"};
    const std::vector<TaggedSentence> sentences = pieceSentences();
    const TrainBatch batch = tagged_batch(*p.tokenizer, pointers(sentences), ids_of(labels), 64, "pieces");
    QCOMPARE(batch.labels.size(), batch.tokens.ids.size());
    const size_t T = size_t(batch.tokens.seq_len);
    int later_pieces = 0;
    for (size_t s = 0; s < sentences.size(); ++s) {
      const Encoding e = encode_words(*p.tokenizer, sentences[s].words, 64);
      std::vector<int> labelled;  // words, in the order their first pieces come
      for (size_t t = 0; t < T; ++t) {
        const std::int32_t label = batch.labels[s * T + t];
        if (t >= e.size()) {
          QCOMPARE(label, -100);  // padding
          continue;
        }
        const Token& tok = e.tokens[t];
        const bool first = tok.word >= 0 && tok.sequence >= 0 && (t == 0 || e.tokens[t - 1].word != tok.word);
        if (!first) {
          QCOMPARE(label, -100);
          later_pieces += tok.word >= 0;
          continue;
        }
        QCOMPARE(label, ids_of(labels).at(sentences[s].tags[size_t(tok.word)]));
        labelled.push_back(tok.word);
      }
      QCOMPARE(labelled.size(), sentences[s].words.size());  // every word once, in order
      for (size_t w = 0; w < labelled.size(); ++w) QCOMPARE(labelled[w], int(w));
    }
    QVERIFY2(later_pieces >= 10, qPrintable(QString("only %1 pieces after a word's first").arg(later_pieces)));
    // "unaffable" is several pieces; only the first is labelled (checked above).
    const Encoding e = encode_words(*p.tokenizer, sentences[0].words, 64);
    int pieces = 0;
    for (const Token& t : e.tokens) pieces += t.word == 3;
    QVERIFY(pieces >= 2);
  }

  // run_ner's label list: the training tags sorted (TaggedData::labels puts O first instead; the trainer uses this).
  void labelOrderIsRunNers() {
    const TaggedData conll = parse_tagged("-DOCSTART- O\n\nEU I-ORG\nrejects O\nGerman I-MISC\ncall O\n\nPeter B-PER\n"
                                          "Blackburn I-PER\nin O\nBRUSSELS B-LOC\n", "conll");
    QCOMPARE(sorted_tag_labels(conll.sentences),
             (std::vector<std::string>{"B-LOC", "B-MISC", "B-ORG", "B-PER", "I-PER", "O"}));  // IOB1 I-ORG read as B-ORG
    const TaggedData pos = parse_tagged("The DET\ndog NOUN\nbarks VERB\n. PUNCT\n", "pos");
    QCOMPARE(sorted_tag_labels(pos.sentences), (std::vector<std::string>{"DET", "NOUN", "PUNCT", "VERB"}));
  }

  // Whole-model gradients of the token head's loss against central differences of the loss itself, with dropout
  // 0.1 (the same masks each call: the step is set back), on words split into pieces.
  void gradientsMatchFiniteDifferences() {
    TrainerOptions options;
    options.head = TrainHead::TokenClassification;
    options.labels = {"B-LOC", "B-PER", "I-PER", "O"};
    options.dropout = 0.1f;
    options.seed = 4;
    BertTrainer trainer(tiny_, cpu_, options);
    const Pretrained p = open_pretrained(tiny_);
    const TrainBatch batch = pieceBatch(*p.tokenizer, options.labels);
    auto loss_at_step_one = [&] {
      trainer.set_step(0);
      return trainer.compute_gradients(batch);
    };
    loss_at_step_one();
    struct Probe { std::string name; std::vector<size_t> elements; };
    const std::vector<Probe> probes = {
        {"classifier.weight", {0, 17, 40, 127}},
        {"classifier.bias", {0, 3}},
        {"bert.encoder.layer.1.output.dense.weight", {5, 700}},
        {"bert.encoder.layer.0.attention.self.query.weight", {3, 500}},
        {"bert.embeddings.LayerNorm.weight", {7}},
        {"bert.embeddings.word_embeddings.weight", {size_t(batch.tokens.ids[2]) * 32 + 1}},  // a token of the batch
    };
    std::map<std::string, std::vector<float>> analytic;
    for (const Probe& pr : probes) {
      const Param& param = trainer.param(pr.name);
      analytic[pr.name].resize(size_t(param.grad.numel()));
      cpu_.download(param.grad, analytic[pr.name]);
    }
    double worst = 0;
    std::string worst_at;
    for (const Probe& pr : probes) {
      Param* param = nullptr;
      for (auto& q : trainer.params())
        if (q->name == pr.name) param = q.get();
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
        const double err = std::fabs(numeric - ours) / std::max(1e-2, std::fabs(numeric));
        if (err > worst) worst = err, worst_at = pr.name + "[" + std::to_string(i) + "]";
        QVERIFY2(std::fabs(numeric - ours) < 2e-3 + 2e-2 * std::fabs(numeric),
                 qPrintable(QString("%1[%2]: backward %3, finite difference %4").arg(QString::fromStdString(pr.name)).arg(i).arg(ours).arg(numeric)));
      }
    }
    qInfo("token head, dropout 0.1: worst relative difference from central differences %.2e (%s)", worst, worst_at.c_str());
  }

  // Every parameter's gradient against PyTorch autograd in float64 (tests/oracle/family_gradients.py), on Hugging
  // Face *ForTokenClassification models of each family, the batch labelled by tagged_batch.
  void gradientsMatchPyTorch_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("backend");
    for (const char* m : {"bert_token", "distilbert_token", "roberta_token"})
      for (const char* b : {"cpu", "vulkan"}) QTest::newRow(qPrintable(QString("%1 %2").arg(m, b))) << m << b;
  }
  void gradientsMatchPyTorch() {
    QFETCH(QString, model);
    QFETCH(QString, backend);
    QString why;
    const fs::path fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    const std::string name = model.toStdString();
    const fs::path folder = fixtures / name;
    if (!fs::exists(folder)) QSKIP(qPrintable(QString("no %1 fixture (see roberta_SKIPPED)").arg(model)));
    if (backend == "vulkan" && !gpu_) QSKIP(qPrintable(noGpu_));
    Backend& b = backend == "cpu" ? static_cast<Backend&>(cpu_) : *gpu_;
    TrainerOptions options;
    options.head = TrainHead::TokenClassification;
    options.labels = labels_of(folder);  // the checkpoint's own: its classifier is kept
    options.dropout = 0.0f;              // PyTorch's reference has no dropout
    const Pretrained p = open_pretrained(folder);
    const TrainBatch batch = pieceBatch(*p.tokenizer, options.labels);
    if (!torchGradients_.count(name)) {  // once per model, for both backends
      const fs::path batch_file = path("batch_" + name + ".json"), prefix = path("grads_" + name);
      test::write_train_batch(batch_file, batch, name.starts_with("bert"));
      QString error;
      QVERIFY2(test::run_python(oracle_script("family_gradients.py"),
                                {QString::fromStdString(folder.string()), QString::fromStdString(batch_file.string()),
                                 QString::fromStdString(prefix.string())}, &error),
               qPrintable(error));
      torchGradients_[name] = prefix;
    }
    BertTrainer trainer(p, b, options);
    const double loss = trainer.compute_gradients(batch);
    const fs::path prefix = torchGradients_[name];
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

  // BERT's and RoBERTa's token heads use config.json's classifier_dropout where set, DistilBERT's its plain dropout
  // (never seq_classif_dropout): with the same seed, changing a field the head ignores leaves the loss as it was.
  void headDropoutIsHuggingFaces() {
    QString why;
    const fs::path fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    auto loss_with = [&](const std::string& model, const char* field, double value) {
      const fs::path copy = path(model + "-" + field);
      fs::remove_all(copy);
      fs::copy(fixtures / model, copy, fs::copy_options::recursive);
      nlohmann::json config = read_json_file(copy / "config.json");
      config[field] = value;
      std::ofstream(copy / "config.json") << config.dump(2);
      TrainerOptions options;
      options.head = TrainHead::TokenClassification;
      options.labels = labels_of(copy);
      options.dropout = 0.1f;
      options.seed = 9;
      BertTrainer trainer(copy, cpu_, options);
      const Pretrained p = open_pretrained(copy);
      return trainer.compute_gradients(pieceBatch(*p.tokenizer, options.labels));
    };
    // BERT: classifier_dropout 0.1 is the hidden dropout's value, 0.5 is not.
    QCOMPARE(loss_with("bert_token", "classifier_dropout", 0.1), loss_with("bert_token", "hidden_dropout_prob", 0.1));
    QVERIFY(loss_with("bert_token", "classifier_dropout", 0.5) != loss_with("bert_token", "classifier_dropout", 0.1));
    // DistilBERT: seq_classif_dropout is its sequence head's, not the token head's.
    QCOMPARE(loss_with("distilbert_token", "seq_classif_dropout", 0.0), loss_with("distilbert_token", "seq_classif_dropout", 0.2));
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
      options.head = TrainHead::TokenClassification;
      options.labels = {"B-LOC", "B-PER", "I-PER", "O"};
      options.seed = 2;
      BertTrainer trainer(p, *b, options);
      OptimizerOptions opt;
      opt.learning_rate = 1e-3f;
      AdamW adamw(trainer.params(), *b, opt);
      const TrainBatch batch = pieceBatch(*p.tokenizer, options.labels);
      for (int s = 0; s < 3; ++s) {
        losses[k].push_back(trainer.compute_gradients(batch));
        adamw.step();
      }
      const Param& w = trainer.param("classifier.weight");
      weights[k].resize(size_t(w.value.numel()));
      b->download(w.value, weights[k]);
      ++k;
    }
    for (int s = 0; s < 3; ++s) QVERIFY2(std::fabs(losses[0][s] - losses[1][s]) < 1e-4, qPrintable(QString("step %1: %2 vs %3").arg(s).arg(losses[0][s]).arg(losses[1][s])));
    QVERIFY(test::normalised_error(weights[0], weights[1]) < 1e-4);
    qInfo("token head, 3 steps with dropout: CPU losses %.6f %.6f %.6f, Vulkan %.6f %.6f %.6f", losses[0][0], losses[0][1],
          losses[0][2], losses[1][0], losses[1][1], losses[1][2]);
    QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
  }

  // Part-of-speech tags are no entities: token accuracy and per-tag scores, no entity F1; entity tags get seqeval.
  void tagSetsThatAreNotEntities() {
    const TaggingReport pos = score_word_tags({{"DET", "NOUN", "VERB", "NOUN"}, {"NOUN", "VERB"}},
                                              {{"DET", "NOUN", "NOUN", "NOUN"}, {"NOUN", ""}});
    QVERIFY(!pos.entities);
    QCOMPARE(pos.words, 5LL);
    QCOMPARE(pos.words_not_scored, 1LL);  // "" is a word truncation cut
    QCOMPARE(pos.seqeval.accuracy, 0.8);
    QCOMPARE(pos.per_tag.at("NOUN").precision, 0.75);  // 3 of the 4 words predicted NOUN
    QCOMPARE(pos.per_tag.at("NOUN").recall, 1.0);
    QCOMPARE(pos.per_tag.at("VERB").recall, 0.0);
    const TaggingReport ner = score_word_tags({{"B-PER", "I-PER", "O"}}, {{"B-PER", "I-PER", "O"}});
    QVERIFY(ner.entities && ner.strict);
    QCOMPARE(ner.seqeval.micro.f1, 1.0);
    QVERIFY(!is_entity_tag_set({"O", "NOUN"}) && is_entity_tag_set({"O", "S-LOC", "E-LOC"}) && !is_iob2_tag_set({"S-LOC"}));
  }

  // bertscope-cli train --task ner on a tiny CoNLL file: loss falls, validation is scored each epoch, the folder is a
  // BertForTokenClassification with run_ner's label order, evaluate scores it, and PyTorch's logits are bertscope's.
  void cliTrainsAndPyTorchAgrees() {
    {
      std::ofstream(path("train.conll")) << tiny_conll(3);
      std::ofstream(path("validation.conll")) << tiny_conll(1);
    }
    const fs::path out = path("ner-out");
    QByteArray stdout_, stderr_;
    const QStringList common = {"--task", "ner", "--train", QString::fromStdString(path("train.conll").string()),
                                "--backend", "cpu", "--seed", "1", "--max-length", "64"};
    // A folder of the user's is refused before any training; so is a bad line, by its number.
    fs::create_directories(path("documents"));
    std::ofstream(path("documents") / "thesis.txt") << "precious";
    QVERIFY(runCli(QStringList{"train", QString::fromStdString(tiny_.string()), "--out",
                               QString::fromStdString(path("documents").string())} + common, &stdout_, &stderr_) != 0);
    QVERIFY(!stderr_.contains("epoch 1"));
    QVERIFY(fs::exists(path("documents") / "thesis.txt"));
    std::ofstream(path("bad.conll")) << "John B-PER\nSmith\n";
    QVERIFY(runCli({"train", QString::fromStdString(tiny_.string()), "--task", "ner", "--train",
                    QString::fromStdString(path("bad.conll").string()), "--out", QString::fromStdString(out.string())},
                   &stdout_, &stderr_) != 0);
    QVERIFY2(stderr_.contains("bad.conll line 2"), stderr_.constData());
    QVERIFY(!fs::exists(out));

    const int rc = runCli(QStringList{"train", QString::fromStdString(tiny_.string()), "--out", QString::fromStdString(out.string()),
                                      "--validation", QString::fromStdString(path("validation.conll").string()), "--epochs", "12",
                                      "--lr", "1e-2", "--batch-size", "4", "--dropout", "0"} + common, &stdout_, &stderr_);
    QVERIFY2(rc == 0, stderr_.constData());
    QVERIFY2(stderr_.contains("validation entity precision"), stderr_.constData());
    const nlohmann::json result = nlohmann::json::parse(stdout_.toStdString());
    const std::vector<std::string> labels = {"B-LOC", "B-PER", "I-LOC", "I-PER", "O"};
    QCOMPARE(result["labels"].get<std::vector<std::string>>(), labels);
    const double first = result["epochs"].front()["train_loss"], last = result["epochs"].back()["train_loss"];
    qInfo("tiny CoNLL: train loss %.4f -> %.4f over 12 epochs; validation entity F1 %.3f, token accuracy %.3f", first, last,
          result["validation"]["f1"].get<double>(), result["validation"]["accuracy"].get<double>());
    QVERIFY2(last < 0.5 * first, qPrintable(QString("loss %1 -> %2").arg(first).arg(last)));
    const nlohmann::json config = read_json_file(out / "config.json");
    QCOMPARE(config["architectures"], nlohmann::json::array({"BertForTokenClassification"}));
    for (size_t i = 0; i < labels.size(); ++i) {
      QCOMPARE(config["id2label"][std::to_string(i)].get<std::string>(), labels[i]);
      QCOMPARE(config["label2id"][labels[i]].get<int>(), int(i));
    }
    QVERIFY(!config.contains("problem_type"));
    QVERIFY(runCli({"evaluate", QString::fromStdString(out.string()), "--task", "ner", "--data",
                    QString::fromStdString(path("validation.conll").string()), "--backend", "cpu"}, &stdout_, &stderr_) == 0);
    const nlohmann::json evaluated = nlohmann::json::parse(stdout_.toStdString());
    QCOMPARE(evaluated["f1"].get<double>(), result["validation"]["f1"].get<double>());  // the same words, the same model

    // bertscope's per-token logits on the saved folder against PyTorch's (tests/oracle/family_logits.py).
    const Pretrained saved = open_pretrained(out);
    const std::vector<TaggedSentence> sentences = parse_tagged(tiny_conll(1), "validation").sentences;
    const TrainBatch batch = tagged_batch(*saved.tokenizer, pointers(sentences), ids_of(labels), 64, "validation");
    BertModel model(saved.config, Checkpoint(out), cpu_);
    QVERIFY(model.has_token_classifier());
    const std::vector<float> ours = model.token_logits(model.encode(batch.tokens).hidden);
    QString why;
    if (test::oracle_fixtures(&why).empty()) QSKIP(qPrintable(why));
    const fs::path batch_file = path("cli-batch.json"), answer = path("cli-torch.json");
    test::write_train_batch(batch_file, batch, true);
    QString error;
    QVERIFY2(test::run_python(oracle_script("family_logits.py"), {QString::fromStdString(out.string()),
             QString::fromStdString(batch_file.string()), QString::fromStdString(answer.string())}, &error), qPrintable(error));
    const nlohmann::json theirs = read_json_file(answer);
    QCOMPARE(theirs["architecture"].get<std::string>(), std::string("BertForTokenClassification"));
    QVERIFY2(theirs["notes"].empty(), theirs["notes"].dump().c_str());  // no tensor left over
    std::vector<float> expected;
    for (const auto& sentence : theirs["logits"])
      for (const auto& token : sentence)
        for (const auto& v : token) expected.push_back(v.get<float>());
    QCOMPARE(expected.size(), ours.size());
    double worst = 0;
    for (size_t i = 0; i < ours.size(); ++i) worst = std::max(worst, double(std::fabs(ours[i] - expected[i])));
    qInfo("saved token classifier: per-token logits vs PyTorch, largest difference %.2e over %zu values", worst, ours.size());
    QVERIFY2(worst < 1e-4, qPrintable(QString("logits differ from PyTorch's by %1").arg(worst)));
  }

  // Tags that are not entities train and evaluate by token accuracy; --validation may be a share of --train.
  void cliTrainsPartOfSpeech() {
    std::string conll;
    for (int i = 0; i < 6; ++i) conll += "the DET\ndog NOUN\nbarks VERB\n. PUNCT\n\na DET\ncat NOUN\nsleeps VERB\n\n";
    std::ofstream(path("pos.conll")) << conll;
    QByteArray stdout_, stderr_;
    const int rc = runCli({"train", QString::fromStdString(tiny_.string()), "--task", "ner", "--train",
                           QString::fromStdString(path("pos.conll").string()), "--validation", "0.25", "--out",
                           QString::fromStdString(path("pos-out").string()), "--epochs", "2", "--lr", "3e-3", "--backend", "cpu", "--max-length", "64"},
                          &stdout_, &stderr_);
    QVERIFY2(rc == 0, stderr_.constData());
    QVERIFY2(stderr_.contains("validation token accuracy"), stderr_.constData());
    const nlohmann::json result = nlohmann::json::parse(stdout_.toStdString());
    QCOMPARE(result["train_size"].get<int>(), 9);
    QCOMPARE(result["validation_size"].get<int>(), 3);
    QVERIFY(result["validation"]["f1"].is_null());
    QVERIFY(result["validation"]["per_tag"].contains("NOUN"));
  }
};

QTEST_GUILESS_MAIN(TestNerTraining)
#include "test_ner_training.moc"
