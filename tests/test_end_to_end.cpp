// Whole tasks against Hugging Face (hf-oracle: transformers.js on onnxruntime) on seeded random models of two sizes,
// on the CPU backend and on Vulkan (validation on): identical fill-mask top-5 with probabilities within 1e-4,
// class probabilities within 1e-4, the same best QA span. Plus Vulkan vs CPU on attentions and long contexts.
#include <QtTest>
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "core/error.h"
#include "session.h"
#include "tasks/tasks.h"
#include "train/fine_tune.h"
#include "test_support.h"

using namespace bertscope;
namespace fs = std::filesystem;

class TestEndToEnd : public QObject {
  Q_OBJECT
  fs::path fixtures_;
  QString why_;

  std::unique_ptr<Session> open(const fs::path& folder, const QString& backend) {
    BackendRequest r{backend == "vulkan" ? BackendKind::Vulkan : BackendKind::Cpu, -1, backend == "vulkan"};
    try {
      return std::make_unique<Session>(folder, r);
    } catch (const Error& e) {
      if (backend == "vulkan" && QString(e.what()).contains("Vulkan")) return nullptr;
      throw;
    }
  }
  void no_validation_messages(Session& s) {
    if (!s.backend().is_gpu()) return;
    QVERIFY2(test::validation_messages(s.backend()) == 0,
             qPrintable(QString::fromStdString("validation: " + test::validation_report(s.backend()))));
  }

 private slots:
  void initTestCase() { fixtures_ = test::oracle_fixtures(&why_); }

  void fill_mask_matches_hugging_face_data() {
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QString>("model");
    for (const char* b : {"cpu", "vulkan"})
      for (const char* m : {"small", "large"}) QTest::newRow(qPrintable(QString("%1 %2").arg(b, m))) << b << m;
  }
  void fill_mask_matches_hugging_face() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    QFETCH(QString, backend);
    QFETCH(QString, model);
    auto s = open(fixtures_ / ("mlm_" + model.toStdString()), backend);
    if (!s) QSKIP("no Vulkan device");
    auto inputs = test::read_jsonl(fixtures_ / "fill_mask_inputs.jsonl");
    auto expected = test::read_jsonl(fixtures_ / ("fill_mask_" + model.toStdString() + "_expected.jsonl"));
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto r = fill_mask(s->model(), s->tokenizer(), inputs[i]["text"].get<std::string>(), 5);
      const auto& want = expected[i]["result"];
      QCOMPARE(r.predictions.at(0).size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) {
        const auto& got = r.predictions[0][k];
        QCOMPARE(got.token, want[k]["token"].get<int>());
        QCOMPARE(got.token_str, want[k]["token_str"].get<std::string>());
        QCOMPARE(got.sequence, want[k]["sequence"].get<std::string>());
        QVERIFY2(std::fabs(got.score - want[k]["score"].get<double>()) < 1e-4,
                 qPrintable(QString("score %1 vs %2").arg(got.score).arg(want[k]["score"].get<double>())));
      }
    }
    no_validation_messages(*s);
  }

  // Fill-mask runs the last layer past its attention on the masked rows only (EncoderRun::output_rows): those rows
  // come out as a whole pass gives them, in the order asked for, on both backends. Not for a pass that keeps
  // hidden states.
  void output_rows_are_the_whole_pass_rows_data() { fill_mask_matches_hugging_face_data(); }
  void output_rows_are_the_whole_pass_rows() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    QFETCH(QString, backend);
    QFETCH(QString, model);
    auto s = open(fixtures_ / ("mlm_" + model.toStdString()), backend);
    if (!s) QSKIP("no Vulkan device");
    const TokenBatch batch = single_batch(s->tokenizer().encode("the quick brown fox jumps over the lazy dog"));
    const std::vector<std::int32_t> rows{4, 1, 7};
    EncoderRun run;
    run.output_rows = &rows;
    const EncoderOutput part = s->model().encode(batch, run);
    const EncoderOutput whole = s->model().encode(batch);
    const int H = s->model().config().hidden_size;
    QCOMPARE(part.hidden.dim(0), std::int64_t(rows.size()));
    const std::vector<float> got = s->model().to_host(part.hidden), all = s->model().to_host(whole.hidden);
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::vector<float> a(got.begin() + i * H, got.begin() + (i + 1) * H);
      const std::vector<float> b(all.begin() + rows[i] * H, all.begin() + (rows[i] + 1) * H);
      QVERIFY2(test::normalised_error(a, b) < 1e-6, qPrintable(QString("row %1").arg(rows[i])));
    }
    run.keep_hidden_states = true;
    QVERIFY_THROWS_EXCEPTION(Error, s->model().encode(batch, run));
    no_validation_messages(*s);
  }

  void classification_matches_hugging_face_data() {
    QTest::addColumn<QString>("backend");
    QTest::newRow("cpu") << "cpu";
    QTest::newRow("vulkan") << "vulkan";
  }
  void classification_matches_hugging_face() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    QFETCH(QString, backend);
    auto s = open(fixtures_ / "cls_small", backend);
    if (!s) QSKIP("no Vulkan device");
    auto inputs = test::read_jsonl(fixtures_ / "cls_inputs.jsonl");
    auto expected = test::read_jsonl(fixtures_ / "cls_expected.jsonl");
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto r = classify(s->model(), s->tokenizer(), inputs[i]["text"].get<std::string>());
      for (const auto& want : expected[i]["result"]) {
        auto it = std::find_if(r.scores.begin(), r.scores.end(), [&](auto& l) { return l.label == want["label"]; });
        QVERIFY(it != r.scores.end());
        QVERIFY(std::fabs(it->score - want["score"].get<double>()) < 1e-4);
      }
    }
    no_validation_messages(*s);
  }

  // predict (evaluate's batches: grouped by length, the last layer on each sentence's first token only) labels every
  // sentence as classify, checked against Hugging Face above, labels it alone; in the examples' order.
  void batched_predictions_are_each_sentence_alone() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    auto s = open(fixtures_ / "cls_small", "cpu");
    // The oracle's sentences (which this random model labels both ways) and pieces of them, of many lengths.
    std::vector<std::string> words;
    for (const auto& input : test::read_jsonl(fixtures_ / "cls_inputs.jsonl")) {
      std::istringstream in(input["text"].get<std::string>());
      for (std::string w; in >> w;) words.push_back(w);
    }
    std::vector<Example> examples;
    for (int i = 0; i < 40; ++i) {
      std::string text;
      for (int w = 0; w < 1 + (i * 7) % 17; ++w) text += words[(i * 5 + w) % words.size()] + " ";
      examples.push_back({text, 0, i + 1});
    }
    const std::vector<int> got = predict(s->model(), s->tokenizer(), examples, 128, 4);
    QCOMPARE(got.size(), examples.size());
    std::set<int> seen;
    for (size_t i = 0; i < examples.size(); ++i) {
      const ClassifyResult alone = classify(s->model(), s->tokenizer(), examples[i].text);
      const auto best = std::max_element(alone.scores.begin(), alone.scores.end(),
                                         [](auto& a, auto& b) { return a.score < b.score; });
      QCOMPARE(s->model().config().id2label.at(got[i]), best->label);
      seen.insert(got[i]);
    }
    QCOMPARE(seen.size(), size_t(2));  // both labels occur: a mix-up of the order would show
  }

  void question_answering_matches_hugging_face_data() { classification_matches_hugging_face_data(); }
  void question_answering_matches_hugging_face() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    QFETCH(QString, backend);
    auto s = open(fixtures_ / "qa_small", backend);
    if (!s) QSKIP("no Vulkan device");
    auto inputs = test::read_jsonl(fixtures_ / "qa_inputs.jsonl");
    auto expected = test::read_jsonl(fixtures_ / "qa_expected.jsonl");
    for (size_t i = 0; i < inputs.size(); ++i) {
      QaOptions o;
      o.max_answer_len = 512;  // transformers.js does not limit the answer length; these contexts are short anyway
      auto r = answer_question(s->model(), s->tokenizer(), inputs[i]["question"].get<std::string>(),
                               inputs[i]["context"].get<std::string>(), o);
      QVERIFY(!r.answers.empty());
      const QaAnswer& best = r.answers[0];
      // transformers.js answers with decoded (lower-cased) tokens; decode our span the same way.
      std::vector<std::int32_t> span_ids;
      for (int t = best.start_token; t <= best.end_token; ++t) span_ids.push_back(r.windows[best.window].encoding.tokens[t].id);
      QCOMPARE(s->tokenizer().decode(span_ids), expected[i]["result"]["answer"].get<std::string>());
      QVERIFY(std::fabs(best.score - expected[i]["result"]["score"].get<double>()) < 1e-4);
      // and our answer is the exact slice of the original context
      std::string lower = best.answer;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      QCOMPARE(lower, expected[i]["result"]["answer"].get<std::string>());
    }
    no_validation_messages(*s);
  }

  void vulkan_matches_cpu_on_attentions_and_long_contexts() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    auto cpu = open(fixtures_ / "qa_small", "cpu");
    auto gpu = open(fixtures_ / "qa_small", "vulkan");
    if (!gpu) QSKIP("no Vulkan device");
    auto a = attention(cpu->model(), cpu->tokenizer(), "The cat sat on the mat.", std::string_view("It was happy."));
    auto b = attention(gpu->model(), gpu->tokenizer(), "The cat sat on the mat.", std::string_view("It was happy."));
    QCOMPARE(a.maps.size(), size_t(2));
    for (size_t l = 0; l < a.maps.size(); ++l) QVERIFY(test::normalised_error(a.maps[l], b.maps[l]) < 1e-5);
    // 5,000 words of context: split into overlapping windows, batched with padding; both backends agree.
    std::string context;
    for (int i = 0; i < 1000; ++i) context += "the river bank was flooded ";
    context += "Melville wrote the book in 1851.";
    QaOptions o;
    o.top_k = 3;
    auto x = answer_question(cpu->model(), cpu->tokenizer(), "Who wrote the book?", context, o);
    auto y = answer_question(gpu->model(), gpu->tokenizer(), "Who wrote the book?", context, o);
    QVERIFY(x.windows.size() > 10);
    QCOMPARE(x.windows.size(), y.windows.size());
    QCOMPARE(x.answers[0].start, y.answers[0].start);
    QCOMPARE(x.answers[0].end, y.answers[0].end);
    QVERIFY(std::fabs(x.answers[0].score - y.answers[0].score) < 1e-4);
    no_validation_messages(*gpu);
  }

  void bad_input_is_an_error_not_a_crash() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    auto s = open(fixtures_ / "mlm_small", "cpu");
    QVERIFY_THROWS_EXCEPTION(Error, fill_mask(s->model(), s->tokenizer(), "", 5));
    QVERIFY_THROWS_EXCEPTION(Error, fill_mask(s->model(), s->tokenizer(), "no mask here", 5));
    QVERIFY_THROWS_EXCEPTION(Error, classify(s->model(), s->tokenizer(), "no classifier head"));
    QVERIFY_THROWS_EXCEPTION(Error, answer_question(s->model(), s->tokenizer(), "q?", "no qa head"));
    // 5,000 words with a mask at the end: truncated away, said clearly.
    std::string longer;
    for (int i = 0; i < 5000; ++i) longer += "word ";
    try {
      fill_mask(s->model(), s->tokenizer(), longer + "[MASK]", 5);
      QFAIL("expected an error");
    } catch (const Error& e) {
      // It names the limit, so the user knows how far in the mask may be.
      const QString limit = QStringLiteral("limit of %1 tokens").arg(s->tokenizer().model_max_length());
      QVERIFY2(QString(e.what()).contains(limit), e.what());
    }
    auto r = fill_mask(s->model(), s->tokenizer(), "[MASK] " + longer, 5);  // truncated, but the mask survives
    QVERIFY(r.encoding.truncated_tokens > 0);
    QCOMPARE(static_cast<int>(r.encoding.size()), 512);
  }
};

QTEST_GUILESS_MAIN(TestEndToEnd)
#include "test_end_to_end.moc"
