// DistilBERT, RoBERTa and token-classification models against PyTorch modules written with Hugging Face's exact
// tensor names (tests/oracle/family_torch.py, itself checked against onnxruntime through transformers.js): the
// last hidden state and every head's logits, on the CPU and on Vulkan (validation on), for a padded batch. Then
// each task end to end (tokenizer, model, pipeline rules) against transformers.js's pipelines on the same models.
#include <QtTest>

#include "core/error.h"
#include "core/json_io.h"
#include "cpu/cpu_backend.h"
#include "model/bert_model.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

std::vector<float> flatten(const nlohmann::json& j) {
  std::vector<float> out;
  if (j.is_number()) {
    out.push_back(j.get<float>());
    return out;
  }
  for (const auto& x : j) {
    auto part = flatten(x);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

// Rows of `values` ((B*T) x width, row-major) for the real (unpadded) tokens only.
std::vector<float> real_rows(const std::vector<float>& values, const std::vector<std::int32_t>& mask, size_t width) {
  std::vector<float> out;
  for (size_t r = 0; r < mask.size(); ++r)
    if (mask[r]) out.insert(out.end(), values.begin() + r * width, values.begin() + (r + 1) * width);
  return out;
}

}  // namespace

class TestFamilies : public QObject {
  Q_OBJECT
  fs::path fixtures_;
  QString why_;
  std::unique_ptr<Backend> gpu_;
  QString noGpu_;

 private slots:
  void initTestCase() {
    fixtures_ = test::oracle_fixtures(&why_);
    gpu_ = test::vulkan_backend(&noGpu_);
  }

  void matches_pytorch_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("backend");
    // *_bin: the same weights as pytorch_model.bin from torch.save (tied decoders stored, 2-D weights strided).
    for (const char* m : {"distilbert_mlm", "distilbert_cls", "distilbert_qa", "distilbert_token", "bert_token",
                          "roberta_mlm", "roberta_cls", "roberta_qa", "roberta_token", "distilbert_mlm_bin",
                          "bert_token_bin", "roberta_mlm_bin"})
      for (const char* b : {"cpu", "vulkan"}) QTest::newRow(qPrintable(QString("%1 %2").arg(m, b))) << m << b;
  }
  void matches_pytorch() {
    QFETCH(QString, model);
    QFETCH(QString, backend);
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    const fs::path folder = fixtures_ / model.toStdString();
    if (model.startsWith("roberta") && !fs::exists(folder)) QSKIP("no RoBERTa fixtures (see roberta_SKIPPED)");
    CpuBackend cpu;
    Backend* be = &cpu;
    if (backend == "vulkan") {
      if (!gpu_) QSKIP(qPrintable(noGpu_));
      be = gpu_.get();
    }
    const std::string weights_of = model.endsWith("_bin") ? model.chopped(4).toStdString() : model.toStdString();
    if (model.endsWith("_bin")) QVERIFY(fs::exists(folder / "pytorch_model.bin") && !fs::exists(folder / "model.safetensors"));
    const nlohmann::json expected = read_json_file(fixtures_ / (weights_of + "_logits.json"), 64 << 20);
    const ModelConfig config = ModelConfig::load(folder / "config.json");
    BertModel m(config, Checkpoint(folder), *be);

    TokenBatch batch;
    batch.batch = static_cast<int>(expected["input_ids"].size());
    batch.seq_len = static_cast<int>(expected["input_ids"][0].size());
    for (const auto& row : expected["input_ids"])
      for (const auto& id : row) batch.ids.push_back(id.get<std::int32_t>());
    for (const auto& row : expected["attention_mask"])
      for (const auto& v : row) batch.mask.push_back(v.get<std::int32_t>());
    if (expected["token_type_ids"].is_null()) {
      QVERIFY(!config.has_token_types() || model.startsWith("roberta"));
      batch.type_ids.assign(batch.ids.size(), 0);
    } else {
      for (const auto& row : expected["token_type_ids"])
        for (const auto& v : row) batch.type_ids.push_back(v.get<std::int32_t>());
    }
    // The position ids the model computes are Hugging Face's (RoBERTa: counted on from the padding index).
    std::vector<std::int32_t> positions;
    for (const auto& row : expected["position_ids"])
      for (const auto& v : row) positions.push_back(v.get<std::int32_t>());
    QCOMPARE(config.position_ids(batch.ids, batch.batch, batch.seq_len), positions);

    const EncoderOutput out = m.encode(batch);
    const size_t H = static_cast<size_t>(config.hidden_size);
    const double hidden_error = test::normalised_error(real_rows(m.to_host(out.hidden), batch.mask, H),
                                                       real_rows(flatten(expected["last_hidden_state"]), batch.mask, H));
    QVERIFY2(hidden_error < 1e-4, qPrintable(QString("last hidden state off by %1").arg(hidden_error)));

    std::vector<float> ours, theirs;
    if (model.contains("mlm")) {
      QVERIFY(m.has_mlm_head());
      std::vector<std::int32_t> rows;
      for (size_t r = 0; r < batch.mask.size(); ++r)
        if (batch.mask[r]) rows.push_back(static_cast<std::int32_t>(r));
      ours = m.mlm_logits(out.hidden, rows);
      theirs = real_rows(flatten(expected["logits"]), batch.mask, static_cast<size_t>(config.vocab_size));
    } else if (model.contains("cls")) {
      QVERIFY(m.has_classifier() && !m.has_token_classifier());
      ours = m.classifier_logits(out.hidden, batch.batch, batch.seq_len);
      theirs = flatten(expected["logits"]);
    } else if (model.contains("qa")) {
      QVERIFY(m.has_qa_head());
      const std::vector<float> both = m.qa_logits(out.hidden);  // (B*T, 2)
      const std::vector<float> start = flatten(expected["start_logits"]), end = flatten(expected["end_logits"]);
      for (size_t r = 0; r < batch.mask.size(); ++r)
        if (batch.mask[r]) {
          ours.insert(ours.end(), {both[2 * r], both[2 * r + 1]});
          theirs.insert(theirs.end(), {start[r], end[r]});
        }
    } else {
      QVERIFY(m.has_token_classifier() && !m.has_classifier());
      const size_t L = static_cast<size_t>(m.num_token_labels());
      ours = real_rows(m.token_logits(out.hidden), batch.mask, L);
      theirs = real_rows(flatten(expected["logits"]), batch.mask, L);
    }
    QCOMPARE(ours.size(), theirs.size());
    const double error = test::normalised_error(ours, theirs);
    QVERIFY2(error < 1e-4, qPrintable(QString("logits off by %1").arg(error)));
    if (be->is_gpu())
      QVERIFY2(test::validation_messages(*be) == 0, test::validation_report(*be).c_str());
  }

  void pipelines_match_transformers_js_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("backend");
    for (const char* f : {"distilbert", "roberta"})
      for (const char* b : {"cpu", "vulkan"}) QTest::newRow(qPrintable(QString("%1 %2").arg(f, b))) << f << b;
  }
  void pipelines_match_transformers_js() {
    QFETCH(QString, family);
    QFETCH(QString, backend);
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    const std::string f = family.toStdString();
    if (!fs::exists(fixtures_ / (f + "_mlm"))) QSKIP("no RoBERTa fixtures (see roberta_SKIPPED)");
    if (backend == "vulkan" && !gpu_) QSKIP(qPrintable(noGpu_));
    const BackendRequest request{backend == "vulkan" ? BackendKind::Vulkan : BackendKind::Cpu, -1, backend == "vulkan"};
    auto check_validation = [&](Session& s) {
      if (s.backend().is_gpu())
        QVERIFY2(test::validation_messages(s.backend()) == 0, test::validation_report(s.backend()).c_str());
    };

    {  // fill-mask: transformers.js answers the first mask only
      Session s(fixtures_ / (f + "_mlm"), request);
      const auto inputs = test::read_jsonl(fixtures_ / (f == "roberta" ? "fill_mask_roberta_inputs.jsonl" : "fill_mask_inputs.jsonl"));
      const auto expected = test::read_jsonl(fixtures_ / (f + "_fill_mask_expected.jsonl"));
      QCOMPARE(inputs.size(), expected.size());
      for (size_t i = 0; i < inputs.size(); ++i) {
        const FillMaskResult r = fill_mask(s.model(), s.tokenizer(), inputs[i]["text"].get<std::string>(), 5);
        const auto& want = expected[i]["result"];
        QCOMPARE(r.predictions.at(0).size(), want.size());
        for (size_t k = 0; k < want.size(); ++k) {
          const MaskPrediction& got = r.predictions[0][k];
          QCOMPARE(got.token, want[k]["token"].get<int>());
          QCOMPARE(got.token_str, want[k]["token_str"].get<std::string>());
          QCOMPARE(got.sequence, want[k]["sequence"].get<std::string>());
          QVERIFY(std::fabs(got.score - want[k]["score"].get<double>()) < 1e-4);
        }
      }
      check_validation(s);
    }
    {  // sequence classification: every label's probability
      Session s(fixtures_ / (f + "_cls"), request);
      const auto inputs = test::read_jsonl(fixtures_ / "cls_inputs.jsonl");
      const auto expected = test::read_jsonl(fixtures_ / (f + "_cls_expected.jsonl"));
      for (size_t i = 0; i < inputs.size(); ++i) {
        const ClassifyResult r = classify(s.model(), s.tokenizer(), inputs[i]["text"].get<std::string>());
        QCOMPARE(r.scores.size(), expected[i]["result"].size());
        for (const auto& want : expected[i]["result"]) {
          auto it = std::find_if(r.scores.begin(), r.scores.end(), [&](auto& l) { return l.label == want["label"]; });
          QVERIFY(it != r.scores.end());
          QVERIFY(std::fabs(it->score - want["score"].get<double>()) < 1e-4);
        }
      }
      check_validation(s);
    }
    {  // question answering: the best span and its score
      Session s(fixtures_ / (f + "_qa"), request);
      const auto inputs = test::read_jsonl(fixtures_ / "qa_inputs.jsonl");
      const auto expected = test::read_jsonl(fixtures_ / (f + "_qa_expected.jsonl"));
      for (size_t i = 0; i < inputs.size(); ++i) {
        QaOptions o;
        o.max_answer_len = 512;  // transformers.js does not limit the answer length; these contexts are short anyway
        const QaResult r = answer_question(s.model(), s.tokenizer(), inputs[i]["question"].get<std::string>(),
                                           inputs[i]["context"].get<std::string>(), o);
        QVERIFY(!r.answers.empty());
        const QaAnswer& best = r.answers[0];
        // transformers.js answers with the span's tokens decoded (RoBERTa's with their leading space); Python and
        // bertscope with the exact slice of the context, which the span's offsets give.
        std::vector<std::int32_t> span_ids;
        for (int t = best.start_token; t <= best.end_token; ++t) span_ids.push_back(r.windows[best.window].encoding.tokens[t].id);
        QCOMPARE(s.tokenizer().decode(span_ids), expected[i]["result"]["answer"].get<std::string>());
        QVERIFY(std::fabs(best.score - expected[i]["result"]["score"].get<double>()) < 1e-4);
      }
      check_validation(s);
    }
    // token classification: every token's label and probability (DistilBERT's, RoBERTa's and BERT's heads)
    for (const std::string& name : {f + "_token", std::string("bert_token")}) {
      Session s(fixtures_ / name, request);
      const auto inputs = test::read_jsonl(fixtures_ / "token_cls_inputs.jsonl");
      const auto expected = test::read_jsonl(fixtures_ / (name + "_expected.jsonl"));
      for (size_t i = 0; i < inputs.size(); ++i) {
        const TokenClassifyResult r = classify_tokens(s.model(), s.tokenizer(), inputs[i]["text"].get<std::string>());
        const auto& want = expected[i]["result"];
        QCOMPARE(r.tokens.size(), want.size());
        for (size_t k = 0; k < want.size(); ++k) {
          const TokenLabel& got = r.tokens[k];
          QCOMPARE(got.index, want[k]["index"].get<int>());
          QCOMPARE(got.entity, want[k]["entity"].get<std::string>());
          QVERIFY(std::fabs(got.score - want[k]["score"].get<double>()) < 1e-4);
          // transformers.js shows the token decoded (" Smith"); Python, and bertscope, the entry ("ĠSmith").
          QCOMPARE(s.tokenizer().readable(r.encoding.tokens[static_cast<size_t>(got.index)].id),
                   want[k]["word"].get<std::string>());
        }
        // The entity pipeline with aggregation none and nothing ignored answers the same, token for token.
        EntityOptions every_label;
        every_label.ignore_labels.clear();
        const EntityResult e = recognize_entities(s.model(), s.tokenizer(), inputs[i]["text"].get<std::string>(), every_label);
        QCOMPARE(e.windows, 1);
        QCOMPARE(e.entities.size(), want.size());
        QCOMPARE(e.tokens.size(), want.size());
        for (size_t k = 0; k < want.size(); ++k) {
          QCOMPARE(e.entities[k].index, want[k]["index"].get<int>());
          QCOMPARE(e.entities[k].label, want[k]["entity"].get<std::string>());
          QVERIFY(std::fabs(e.entities[k].score - want[k]["score"].get<double>()) < 1e-4);
          QCOMPARE(e.entities[k].word, s.tokenizer().token(r.encoding.tokens[static_cast<size_t>(e.entities[k].index)].id));
        }
      }
      check_validation(s);
    }
  }
};

QTEST_GUILESS_MAIN(TestFamilies)
#include "test_families.moc"
