// Explaining a prediction (engine/explain): Hugging Face's head_mask, saliency gradients and integrated gradients,
// ranking heads, attention rollout and flow. The references are PyTorch (tests/oracle/explain_oracle.py over
// family_torch.py, float64, with head_mask) for the model outputs and gradients, on the CPU and on Vulkan
// (validation on), and small cases worked by hand for rollout and flow.
#include <QProcess>
#include <QtTest>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <fstream>
#include <numeric>

#include "core/error.h"
#include "core/json_io.h"
#include "cpu/cpu_backend.h"
#include "explain/attention_flow.h"
#include "explain/explain.h"
#include "explain/head_gradients.h"
#include "gpu/vulkan_backend.h"
#include "model/bert_model.h"
#include "model/checkpoint.h"
#include "model/pretrained.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "train/bert_trainer.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// One input for the oracle: the ids of one sentence, a head mask (empty: none) and the logit to differentiate.
struct OracleCase {
  std::vector<std::int32_t> ids, types;
  HeadMask mask;
  int row = 0, index = 0;
};

std::vector<float> floats(const nlohmann::json& j) { return j.get<std::vector<float>>(); }

Encoding encoding_of(const OracleCase& c) {
  Encoding e;
  for (size_t i = 0; i < c.ids.size(); ++i) {
    Token t;
    t.id = c.ids[i];
    t.type_id = c.types.empty() ? 0 : c.types[i];
    t.special = i == 0 || i + 1 == c.ids.size();
    t.sequence = t.special ? -1 : 0;
    e.tokens.push_back(t);
  }
  return e;
}

ExplainTask task_of(const std::string& model) {
  if (model.find("mlm") != std::string::npos) return ExplainTask::FillMask;
  if (model.find("cls") != std::string::npos) return ExplainTask::Classify;
  if (model.find("qa") != std::string::npos) return ExplainTask::QuestionAnswering;
  return ExplainTask::TokenClassification;
}

// The cases each model is checked on: no mask, then a mask with a layer entirely off and one entirely on.
std::vector<OracleCase> cases_for(const std::string& model, const ModelConfig& config) {
  const bool roberta = model.starts_with("roberta");
  const std::vector<std::int32_t> ids = roberta ? std::vector<std::int32_t>{0, 713, 1569, 16, 10, 1296, 4, 2}
                                                : std::vector<std::int32_t>{101, 2023, 3185, 103, 2307, 1012, 2009, 102};
  const int L = config.num_hidden_layers, A = config.num_attention_heads;
  HeadMask mask = HeadMask::all_on(L, A);
  for (int h = 0; h < A; ++h) mask.at(0, h) = h % 2 ? 1.0f : 0.0f;  // layer 0: every other head off
  if (L > 2)
    for (int h = 0; h < A; ++h) mask.at(1, h) = 0.0f;  // layer 1 off entirely (layer 2 stays all on)
  else
    mask.at(1, A - 1) = 0.0f;
  const ExplainTask task = task_of(model);
  // The logit: a word at the [MASK] position; label 1; the end logit at position 5; label 2 at position 4.
  const int row = task == ExplainTask::QuestionAnswering ? 5 : task == ExplainTask::TokenClassification ? 4 : 3;
  const int index = task == ExplainTask::FillMask ? 2307 : task == ExplainTask::QuestionAnswering ? 1 : task == ExplainTask::Classify ? 1 : 2;
  std::vector<std::int32_t> types(ids.size(), 0);
  if (config.has_token_types() && !roberta)
    for (size_t i = 5; i < ids.size(); ++i) types[i] = 1;
  return {{ids, types, {}, row, index}, {ids, types, mask, row, index}};
}

// One run of bertscope-cli: its exit code, stderr, and stdout as JSON when it succeeded.
struct Run {
  int code = -1;
  QString err;
  nlohmann::json out;
};
Run cli(const QStringList& args) {
  QProcess p;
  p.start(BERTSCOPE_CLI, args);
  Run r;
  if (!p.waitForFinished(300000)) {
    p.kill();
    p.waitForFinished();
    r.err = "timed out";
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.err = QString::fromUtf8(p.readAllStandardError());
  const QByteArray out = p.readAllStandardOutput();
  if (r.code == 0) r.out = nlohmann::json::parse(out.toStdString());
  return r;
}

}  // namespace

class TestExplain : public QObject {
  Q_OBJECT
  fs::path fixtures_;
  QString why_, noGpu_;
  std::unique_ptr<Backend> gpu_;
  QTemporaryDir dir_;
  std::map<std::string, nlohmann::json> oracle_;  // model -> explain_oracle.py's answers, once for both backends

  static fs::path oracle_script() {
    return fs::path(BERTSCOPE_TEST_RESOURCES).parent_path() / "tests" / "oracle" / "explain_oracle.py";
  }

  // explain_oracle.py's answers for `cases` on a fixture model (run once per model).
  const nlohmann::json& oracle(const std::string& model, const std::vector<OracleCase>& cases) {
    if (!oracle_.count(model)) {
      nlohmann::json list = nlohmann::json::array();
      for (const OracleCase& c : cases) {
        nlohmann::json j = {{"ids", c.ids}, {"type_ids", c.types}, {"row", c.row}, {"index", c.index}};
        if (!c.mask.empty()) {
          nlohmann::json rows = nlohmann::json::array();
          for (int l = 0; l < c.mask.layers; ++l)
            rows.push_back(std::vector<float>(c.mask.keep.begin() + l * c.mask.heads, c.mask.keep.begin() + (l + 1) * c.mask.heads));
          j["head_mask"] = rows;
        }
        list.push_back(j);
      }
      const fs::path in = fs::path(dir_.path().toStdString()) / (model + "_cases.json");
      const fs::path out = fs::path(dir_.path().toStdString()) / (model + "_oracle.json");
      std::ofstream(in) << list.dump();
      QString error;
      if (!test::run_python(oracle_script(), {QString::fromStdString((fixtures_ / model).string()),
                                              QString::fromStdString(in.string()), QString::fromStdString(out.string())},
                            &error))
        throw Error("explain_oracle.py failed: " + error.toStdString());
      oracle_[model] = read_json_file(out, 256 << 20);
    }
    return oracle_[model];
  }

  CpuBackend cpu_;
  Backend* backendNamed(const QString& name) { return name == "cpu" ? &cpu_ : gpu_.get(); }  // null: no GPU

  // The rows of the oracle comparisons: each model on both backends.
  static void modelOnBothBackends(std::initializer_list<const char*> models) {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("backend");
    for (const char* m : models)
      for (const char* b : {"cpu", "vulkan"}) QTest::newRow(qPrintable(QString("%1 %2").arg(m, b))) << m << b;
  }
  // A fixture model on a backend, opened into `out`; the reason to skip instead when it cannot be (no fixtures, no
  // such fixture, no GPU).
  struct Opened {
    ModelConfig config;
    std::unique_ptr<BertModel> model;
  };
  QString openFixture(const QString& model, const QString& backend, Opened& out) {
    if (fixtures_.empty()) return why_;
    const fs::path folder = fixtures_ / model.toStdString();
    if (!fs::exists(folder)) return QString("no %1 fixture (see roberta_SKIPPED)").arg(model);
    Backend* be = backendNamed(backend);
    if (!be) return noGpu_;
    out.config = ModelConfig::load(folder / "config.json");
    out.model = std::make_unique<BertModel>(out.config, Checkpoint(folder), *be);
    return {};
  }
// The test row's model and backend (modelOnBothBackends) opened into `opened`, or the test skipped with the reason.
// A macro because QFETCH and QSKIP must stand in the test function itself.
#define OPEN_ROW_FIXTURE(model, backend, opened)                                                          \
  QFETCH(QString, model);                                                                                 \
  QFETCH(QString, backend);                                                                               \
  Opened opened;                                                                                          \
  if (const QString skip = openFixture(model, backend, opened); !skip.isEmpty()) QSKIP(qPrintable(skip))

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    fixtures_ = test::oracle_fixtures(&why_);
    gpu_ = test::vulkan_backend(&noGpu_);
  }

  // ---- head mask ----

  // The new op, on both backends, against the definition: each head's maps times its factor, in place too.
  void scaleHeadsOp() {
    const int B = 2, A = 3, T = 5;
    std::vector<float> probs(static_cast<size_t>(B) * A * T * T);
    for (size_t i = 0; i < probs.size(); ++i) probs[i] = 0.01f * static_cast<float>(i % 97) + 0.5f;
    const std::vector<float> scale = {1.0f, 0.0f, 0.25f};
    std::vector<Backend*> backends = {&cpu_};
    if (gpu_) backends.push_back(gpu_.get());
    for (Backend* b : backends) {
      Tensor p = b->upload(std::span<const float>(probs), {B, A, T, T}), out = b->empty({B, A, T, T});
      Tensor s = b->upload(std::span<const float>(scale), {A});
      b->scale_heads(p, s, out);
      b->scale_heads(p, s, p);  // in place
      std::vector<float> got(probs.size()), in_place(probs.size());
      b->download(out, got);
      b->download(p, in_place);
      for (size_t i = 0; i < probs.size(); ++i) {
        const float want = probs[i] * scale[(i / (T * T)) % A];
        QVERIFY2(got[i] == want && in_place[i] == want, qPrintable(QString("%1 element %2").arg(QString::fromStdString(b->name())).arg(i)));
      }
      // A mask per sentence: (B, A) factors.
      const std::vector<float> per_sentence = {0.0f, 1.0f, 1.0f, 1.0f, 0.5f, 0.0f};
      Tensor fresh = b->upload(std::span<const float>(probs), {B, A, T, T});
      b->scale_heads(fresh, b->upload(std::span<const float>(per_sentence), {B, A}), out);
      b->download(out, got);
      for (size_t i = 0; i < probs.size(); ++i)
        QVERIFY2(got[i] == probs[i] * per_sentence[i / (T * T)], qPrintable(QString("%1 per sentence, element %2").arg(QString::fromStdString(b->name())).arg(i)));
    }
    if (gpu_) QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
  }

  // BertModel with a head mask against PyTorch with Hugging Face's head_mask: the last hidden state, every head's
  // outputs and the attention maps (the switched-off heads' are 0, as output_attentions gives them).
  void headMaskMatchesPyTorch_data() { modelOnBothBackends({"mlm_large", "distilbert_cls", "roberta_qa", "bert_token"}); }
  void headMaskMatchesPyTorch() {
    OPEN_ROW_FIXTURE(model, backend, opened);
    const std::string name = model.toStdString();
    const ModelConfig& config = opened.config;
    BertModel& m = *opened.model;
    const std::vector<OracleCase> cases = cases_for(name, config);
    const nlohmann::json& expected = oracle(name, cases);
    const size_t T = cases[0].ids.size();
    std::vector<std::vector<float>> hidden_of_case;
    for (size_t c = 0; c < cases.size(); ++c) {
      m.set_head_mask(cases[c].mask);
      const TokenBatch batch = single_batch(encoding_of(cases[c]));
      const EncoderOutput out = m.encode(batch, /*keep_attentions=*/true);
      const std::vector<float> hidden = m.to_host(out.hidden);
      const double hidden_error = test::normalised_error(hidden, floats(expected[c]["hidden"]));
      std::vector<float> attentions;
      for (const Tensor& a : out.attentions) {
        const std::vector<float> layer = m.to_host(a);
        attentions.insert(attentions.end(), layer.begin(), layer.end());
      }
      const double attention_error = test::normalised_error(attentions, floats(expected[c]["attentions"]));
      std::vector<float> outputs;
      if (m.has_mlm_head()) {
        std::vector<std::int32_t> rows(T);
        std::iota(rows.begin(), rows.end(), 0);
        outputs = m.mlm_logits(out.hidden, rows);
      } else if (m.has_classifier()) {
        outputs = m.classifier_logits(out.hidden, 1, static_cast<int>(T));
      } else if (m.has_qa_head()) {
        outputs = m.qa_logits(out.hidden);
      } else {
        outputs = m.token_logits(out.hidden);
      }
      const double output_error = test::normalised_error(outputs, floats(expected[c]["outputs"]));
      qInfo("%s on %s, %s: hidden %.1e, attention %.1e, outputs %.1e", name.c_str(), m.backend().name().c_str(),
            cases[c].mask.empty() ? "no mask" : head_mask_spec(cases[c].mask).c_str(), hidden_error, attention_error, output_error);
      QVERIFY2(hidden_error < 1e-4 && attention_error < 1e-4 && output_error < 1e-4, "differs from PyTorch");
      hidden_of_case.push_back(hidden);
    }
    // The mask matters: without it the model answers differently (the check above would fail with the mask ignored).
    QVERIFY(test::normalised_error(hidden_of_case[0], hidden_of_case[1]) > 1e-2);
    if (backend == "vulkan") QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
  }

  // No mask, or a mask that keeps every head, records exactly the dispatches of the model without the feature.
  void noMaskCostsNothing() {
    if (!gpu_) QSKIP(qPrintable(noGpu_));
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    const fs::path folder = fixtures_ / "mlm_large";
    const ModelConfig config = ModelConfig::load(folder / "config.json");
    auto& vulkan = static_cast<gpu::VulkanBackend&>(*gpu_);
    BertModel m(config, Checkpoint(folder), vulkan);
    const TokenBatch batch = single_batch(encoding_of(cases_for("mlm_large", config)[0]));
    auto dispatches = [&] {
      const int before = vulkan.dispatch_count();
      const EncoderOutput out = m.encode(batch);
      m.to_host(out.hidden);
      return vulkan.dispatch_count() - before;
    };
    const int plain = dispatches();
    m.set_head_mask(HeadMask::all_on(config.num_hidden_layers, config.num_attention_heads));
    QCOMPARE(dispatches(), plain);
    HeadMask one = HeadMask::all_on(config.num_hidden_layers, config.num_attention_heads);
    one.at(1, 2) = 0.0f;
    m.set_head_mask(one);
    QCOMPARE(dispatches(), plain + 1);  // one scale_heads, in the one layer with a head off
  }

  void headMaskSpecs() {
    const HeadMask m = parse_head_mask("0:1, 2:0,2:3", 3, 4);
    QCOMPARE(m.heads_off(), 3);
    QCOMPARE(m.at(0, 1), 0.0f);
    QCOMPARE(m.at(2, 3), 0.0f);
    QCOMPARE(m.at(1, 1), 1.0f);
    QCOMPARE(head_mask_spec(m), std::string("0:1,2:0,2:3"));
    QVERIFY(parse_head_mask("", 3, 4).empty());
    auto refused = [](const char* spec, const char* says) {
      try {
        parse_head_mask(spec, 3, 4);
      } catch (const Error& e) {
        return QString(e.what()).contains(says);
      }
      return false;
    };
    QVERIFY(refused("3:0", "layer 3 is out of range: the model has 3 layers"));
    QVERIFY(refused("0:4", "head 4 is out of range"));
    QVERIFY(refused("0-1", "expected LAYER:HEAD"));
    QVERIFY(refused("0:x", "expected LAYER:HEAD"));
    QVERIFY(refused("0:1,", "expected LAYER:HEAD"));
    // A mask of the wrong size is refused by the model, naming both sizes.
    CpuBackend cpu;
    QTemporaryDir dir;
    RandomModelSpec spec = test::tiny_model_spec(dir);
    const fs::path folder = fs::path(dir.path().toStdString()) / "tiny";
    write_random_model(folder, spec);
    const Pretrained p = open_pretrained(folder);
    BertModel m2(p.config, Checkpoint(folder), cpu);
    QVERIFY_THROWS_EXCEPTION(Error, m2.set_head_mask(HeadMask::all_on(5, 5)));
  }

  // ---- saliency ----

  // The gradient of one logit with respect to the embedding sum (and the embedding sum and the logit) against
  // PyTorch autograd, for every task's head and family, with and without a head mask (the backward pass through a
  // switched-off head).
  void gradientsMatchPyTorch_data() {
    modelOnBothBackends({"mlm_small", "cls_small", "qa_small", "bert_token", "distilbert_cls", "roberta_mlm", "roberta_qa"});
  }
  void gradientsMatchPyTorch() {
    OPEN_ROW_FIXTURE(model, backend, opened);
    const std::string name = model.toStdString();
    const ModelConfig& config = opened.config;
    BertModel& m = *opened.model;
    const std::vector<OracleCase> cases = cases_for(name, config);
    const nlohmann::json& expected = oracle(name, cases);
    for (size_t c = 0; c < cases.size(); ++c) {
      m.set_head_mask(cases[c].mask);
      const ExplainTarget target{task_of(name), cases[c].row, cases[c].index};
      const EmbeddingGradient g = embedding_gradient(m, encoding_of(cases[c]), target);
      const std::vector<float> want = floats(expected[c]["gradient"]);
      double scale = 0, error = 0;  // relative to the largest gradient
      for (size_t i = 0; i < want.size(); ++i) scale = std::max(scale, std::fabs(double(want[i])));
      QCOMPARE(g.gradient.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) error = std::max(error, std::fabs(double(g.gradient[i]) - want[i]) / scale);
      const double embedding_error = test::normalised_error(g.embedding_sum, floats(expected[c]["embedding_sum"]));
      const double logit = expected[c]["logit"].get<double>();
      qInfo("%s on %s, %s: gradient %.1e (largest %.2e), embedding sum %.1e, logit %.6f vs %.6f", name.c_str(),
            m.backend().name().c_str(), cases[c].mask.empty() ? "no mask" : head_mask_spec(cases[c].mask).c_str(), error, scale,
            embedding_error, g.logit, logit);
      QVERIFY2(error < 1e-4, "gradient differs from PyTorch's");
      QVERIFY2(embedding_error < 1e-5, "embedding sum differs from PyTorch's");
      QVERIFY2(std::fabs(g.logit - logit) < 1e-4 * std::max(1.0, std::fabs(logit)), "logit differs from PyTorch's");
      // Gradient x input is that gradient's product with the embedding sum, per token's L2 norm.
      const Saliency s = saliency(m, encoding_of(cases[c]), target);
      const size_t H = static_cast<size_t>(config.hidden_size);
      for (size_t t = 0; t < s.scores.size(); ++t) {
        double norm = 0;
        for (size_t h = 0; h < H; ++h) norm += std::pow(double(want[t * H + h]) * g.embedding_sum[t * H + h], 2);
        QVERIFY(std::fabs(s.scores[t] - std::sqrt(norm)) < 1e-4 * std::max(1.0, double(s.scores[t])) + 1e-4 * scale);
      }
    }
    if (backend == "vulkan") QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
  }

  // Integrated gradients: the attributions add up to f(x) - f(baseline) better as the steps go up (both baselines);
  // interpolation points run side by side in a batch give what they give one at a time.
  void integratedGradientsConverge_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<QString>("backend");
    for (const char* m : {"cls_small", "mlm_small", "qa_small"}) QTest::newRow(qPrintable(QString("%1 cpu").arg(m))) << m << "cpu";
    QTest::newRow("cls_small vulkan") << "cls_small" << "vulkan";
  }
  void integratedGradientsConverge() {
    OPEN_ROW_FIXTURE(model, backend, opened);
    const std::string name = model.toStdString();
    BertModel& m = *opened.model;
    const OracleCase c = cases_for(name, opened.config)[0];
    const ExplainTarget target{task_of(name), c.row, c.index};
    for (SaliencyBaseline baseline : {SaliencyBaseline::Zero, SaliencyBaseline::Pad}) {
      std::vector<double> errors;
      Saliency last;
      for (int steps : {8, 32, 128}) {  // the midpoint rule's error falls as 1/steps^2 once the path is resolved
        SaliencyOptions o;
        o.method = SaliencyMethod::IntegratedGradients;
        o.steps = steps;
        o.baseline = baseline;
        last = saliency(m, encoding_of(c), target, o);
        errors.push_back(last.completeness_error);
      }
      const char* which = baseline == SaliencyBaseline::Zero ? "zero" : "[PAD]";
      qInfo("%s on %s, %s baseline: f(x) - f(x') = %.4f; completeness error at 8, 32, 128 steps: %.2e %.2e %.2e",
            name.c_str(), m.backend().name().c_str(), which, last.logit - last.baseline_logit, errors[0], errors[1], errors[2]);
      for (size_t i = 1; i < errors.size(); ++i)
        QVERIFY2(errors[i] < errors[i - 1], qPrintable(QString("%1 baseline: the error did not go down from step %2").arg(which).arg(i)));
      QVERIFY(errors.back() < 1e-2 * std::max(1.0, std::fabs(last.logit - last.baseline_logit)));
      // f(x) from the embedding sums handed in is the model's own forward pass.
      QVERIFY(std::fabs(last.logit - score_target(m, encoding_of(c), target).logit) < 1e-4 * std::max(1.0, std::fabs(last.logit)));
    }
    SaliencyOptions one, eight;
    one.method = eight.method = SaliencyMethod::IntegratedGradients;
    one.steps = eight.steps = 8;
    one.batch = 1;
    const Saliency a = saliency(m, encoding_of(c), target, one), b = saliency(m, encoding_of(c), target, eight);
    QVERIFY(test::normalised_error(a.scores, b.scores) < 1e-5);
  }

  // ---- heads ----

  // Ranking by ablation: each head's change is the score without it, taken away from the full score; a head the
  // model's mask already switched off is left out.
  void rankHeadsByAblation() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    const fs::path folder = fixtures_ / "mlm_large";
    const ModelConfig config = ModelConfig::load(folder / "config.json");
    BertModel m(config, Checkpoint(folder), cpu_);
    const OracleCase c = cases_for("mlm_large", config)[0];
    const ExplainTarget target{ExplainTask::FillMask, c.row, c.index};
    HeadMask off = HeadMask::all_on(3, 3);
    off.at(2, 1) = 0.0f;
    m.set_head_mask(off);
    const HeadRanking r = rank_heads(m, encoding_of(c), target);
    QCOMPARE(r.ranking.size(), size_t(8));
    QVERIFY(r.already_off[2 * 3 + 1] && r.logit_change[2 * 3 + 1] == 0.0);
    QCOMPARE(r.full.logit, score_target(m, encoding_of(c), target).logit);
    HeadMask without = off;
    without.at(0, 2) = 0.0f;
    // Each ablation runs as one sentence of a batch with a mask per sentence; alone, it gives the same.
    QVERIFY(std::fabs(r.logit_change[2] - (r.full.logit - score_target(m, encoding_of(c), target, &without).logit)) < 1e-5);
    HeadMask layer1 = off;
    layer1.at(1, 0) = 0.0f;
    QVERIFY(std::fabs(r.logit_change[3] - (r.full.logit - score_target(m, encoding_of(c), target, &layer1).logit)) < 1e-5);
    for (size_t i = 1; i < r.ranking.size(); ++i) {
      const auto [l0, h0] = r.ranking[i - 1];
      const auto [l1, h1] = r.ranking[i];
      QVERIFY(r.logit_change[size_t(l0 * 3 + h0)] >= r.logit_change[size_t(l1 * 3 + h1)]);
    }
  }

  // Michel et al.'s gradient importance, d(logit)/d(head gate), against PyTorch autograd's gradient with respect to
  // head_mask, with and without heads switched off (those report 0: their gate's gradient is not defined by what the
  // pass keeps), for every family and head; and, to first order, the ablation's logit change.
  void headGradientsMatchPyTorch_data() {
    modelOnBothBackends({"mlm_large", "mlm_small", "cls_small", "qa_small", "bert_token", "distilbert_cls", "roberta_mlm", "roberta_qa"});
  }
  void headGradientsMatchPyTorch() {
    OPEN_ROW_FIXTURE(model, backend, opened);
    const std::string name = model.toStdString();
    BertModel& m = *opened.model;
    const std::vector<OracleCase> cases = cases_for(name, opened.config);
    const nlohmann::json& expected = oracle(name, cases);
    for (size_t c = 0; c < cases.size(); ++c) {
      m.set_head_mask(cases[c].mask);
      const ExplainTarget target{task_of(name), cases[c].row, cases[c].index};
      const HeadGradients g = head_gradients(m, encoding_of(cases[c]), target);
      const std::vector<float> want = floats(expected[c]["head_mask_gradient"]);
      QCOMPARE(g.gradient.size(), want.size());
      double scale = 0, error = 0;
      for (float w : want) scale = std::max(scale, std::fabs(double(w)));
      int compared = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        if (g.already_off[i]) {
          QCOMPARE(g.gradient[i], 0.0);
          continue;
        }
        error = std::max(error, std::fabs(g.gradient[i] - want[i]));
        ++compared;
      }
      QVERIFY(compared > 0 && scale > 0);
      QVERIFY2(error <= 1e-4 * scale, qPrintable(QString("%1 case %2: error %3 of %4").arg(model).arg(c).arg(error).arg(scale)));
      QVERIFY(std::fabs(g.logit - double(expected[c]["logit"])) < 1e-4 * std::max(1.0, std::fabs(double(expected[c]["logit"]))));
    }
    if (backend == "vulkan") QVERIFY2(test::validation_messages(*gpu_) == 0, test::validation_report(*gpu_).c_str());
  }
  // The gradient is the first-order estimate of switching a head off: on every head, (logit at gate 1 - logit at
  // gate 1 - eps) / eps approaches it; and the ranking is by its magnitude.
  void headGradientsAreTheGateDerivative() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    const fs::path folder = fixtures_ / "mlm_large";
    const ModelConfig config = ModelConfig::load(folder / "config.json");
    BertModel m(config, Checkpoint(folder), cpu_);
    const OracleCase c = cases_for("mlm_large", config)[0];
    const ExplainTarget target{ExplainTask::FillMask, c.row, c.index};
    const int L = config.num_hidden_layers, A = config.num_attention_heads;
    const HeadGradients g = head_gradients(m, encoding_of(c), target);
    // The gate's derivative by central differences, Richardson-extrapolated: this random model's logit curves
    // sharply in a gate (at a step of 1e-2 a plain central difference is 3% off), and a small step drowns in
    // float32's rounding of the logit (at 1e-3 that is 0.3% of the value). Combining steps of h and h/2 cancels
    // the curvature term, so a step large enough to be clear of rounding can be used.
    auto central = [&](int l, int h, double step) {
      HeadMask up = HeadMask::all_on(L, A), down = up;
      up.at(l, h) = float(1 + step);
      down.at(l, h) = float(1 - step);
      const double run = double(up.at(l, h)) - double(down.at(l, h));  // the step as float32 holds it
      return (score_target(m, encoding_of(c), target, &up).logit - score_target(m, encoding_of(c), target, &down).logit) / run;
    };
    const double h = 1e-2;
    double worst = 0;
    for (int l = 0; l < L; ++l)
      for (int a = 0; a < A; ++a) {
        const double fd = (4 * central(l, a, h / 2) - central(l, a, h)) / 3;
        const double got = g.gradient[size_t(l * A + a)];
        worst = std::max(worst, std::fabs(got - fd) / std::max(1.0, std::fabs(fd)));
        // autograd (above) is the exact check; this one, that it is the gate's derivative
        QVERIFY2(std::fabs(got - fd) < 2e-3 * std::max(1.0, std::fabs(fd)), qPrintable(QString("layer %1 head %2: %3 vs %4").arg(l).arg(a).arg(got).arg(fd)));
      }
    qInfo("largest relative difference from the finite differences: %.2g", worst);
    for (size_t i = 1; i < g.ranking.size(); ++i) {
      const auto [l0, h0] = g.ranking[i - 1];
      const auto [l1, h1] = g.ranking[i];
      QVERIFY(std::fabs(g.gradient[size_t(l0 * A + h0)]) >= std::fabs(g.gradient[size_t(l1 * A + h1)]));
    }
  }

  // A ranking reports its progress after each batched pass and stops at the next pass once cancelled, marked so.
  void rankHeadsProgressAndCancel() {
    const fs::path folder = fs::path(BERTSCOPE_TEST_RESOURCES) / "default-model";
    if (!fs::exists(folder / "config.json")) QSKIP("no resources/default-model");
    const Pretrained p = open_pretrained(folder);
    BertModel m(p.config, Checkpoint(folder), cpu_);
    const Encoding e = p.tokenizer->encode("the cat sat on the [MASK] .");
    const ExplainTarget target = resolve_target(m, *p.tokenizer, e, ExplainTask::FillMask);
    const int A = p.config.num_attention_heads, heads = p.config.num_hidden_layers * A;
    QVERIFY(p.config.num_hidden_layers > 1);  // more than one pass
    std::vector<std::pair<int, int>> reports;
    RankHeadsCallbacks all;
    all.progress = [&](int done, int total) { reports.emplace_back(done, total); };
    const HeadRanking whole = rank_heads(m, e, target, all);
    QVERIFY(!whole.cancelled);
    QCOMPARE(int(reports.size()), p.config.num_hidden_layers);  // a layer's heads a pass
    QCOMPARE(reports.front(), std::make_pair(A, heads));
    QCOMPARE(reports.back(), std::make_pair(heads, heads));
    // Cancelled after the first pass: no second pass runs.
    reports.clear();
    RankHeadsCallbacks first_only = all;
    first_only.cancelled = [&] { return !reports.empty(); };
    const HeadRanking cut = rank_heads(m, e, target, first_only);
    QVERIFY(cut.cancelled);
    QCOMPARE(int(reports.size()), 1);
    // What the first pass measured is what the whole ranking measured for those heads.
    QCOMPARE(cut.logit_change[0], whole.logit_change[0]);
  }

  // The default model with a 30-token input on the CPU: ranking its heads under 5 s, and gradient x input within 3x
  // of one training forward + backward pass (the trainer's, on the same input). Medians of 5.
  void speedOnTheDefaultModel() {
    const fs::path folder = fs::path(BERTSCOPE_TEST_RESOURCES) / "default-model";
    if (!fs::exists(folder / "config.json")) QSKIP("no resources/default-model");
    const Pretrained p = open_pretrained(folder);
    BertModel m(p.config, Checkpoint(folder), cpu_);
    std::string text = "the cat sat on the [MASK] while the dog slept by the door and the";
    text += " children played outside in the garden near the old house all day";
    const Encoding e = p.tokenizer->encode(text);
    QVERIFY2(e.size() == 30, qPrintable(QString("%1 tokens").arg(e.size())));
    const ExplainTarget target = resolve_target(m, *p.tokenizer, e, ExplainTask::FillMask);
    TrainerOptions o;
    o.head = TrainHead::MaskedLM;
    o.dropout = 0;
    BertTrainer trainer(p, cpu_, o);
    TrainBatch batch;
    batch.tokens = single_batch(e);
    batch.labels.assign(e.size(), -100);
    batch.labels[static_cast<size_t>(target.position)] = target.index;
    auto median_ms = [](const std::function<void()>& f) {
      f();  // warm-up
      std::vector<double> ms;
      for (int i = 0; i < 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      return ms[2];
    };
    const double step = median_ms([&] { trainer.compute_gradients(batch); });
    const double grad_input = median_ms([&] { saliency(m, e, target); });
    SaliencyOptions ig;
    ig.method = SaliencyMethod::IntegratedGradients;
    const double integrated = median_ms([&] { saliency(m, e, target, ig); });
    const double forward = median_ms([&] { score_target(m, e, target); });
    const double heads = median_ms([&] { rank_heads(m, e, target); });
    qInfo("default model, %zu tokens, CPU: forward %.1f ms; training forward+backward %.1f ms; gradient x input %.1f ms "
          "(%.2fx); integrated gradients (32 steps) %.1f ms (%.1fx); rank heads (%d heads) %.1f ms",
          e.size(), forward, step, grad_input, grad_input / step, integrated, integrated / step,
          p.config.num_hidden_layers * p.config.num_attention_heads, heads);
    // Wall times say little while other jobs crowd the cores (OpenMP threads then wait on each other at every op):
    // the bounds are checked on a machine with a core to spare per thread.
    double load = 0;
    getloadavg(&load, 1);
    if (load > QThread::idealThreadCount() - 1) QSKIP(qPrintable(QString("load average %1 on %2 cores: times not checked").arg(load).arg(QThread::idealThreadCount())));
    QVERIFY2(grad_input < 3 * step, "gradient x input took 3 training passes or more");
    QVERIFY2(heads < 5000, "ranking the default model's heads took 5 s or more");
  }

  // ---- the command line ----

  void cliExplain() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    auto model = [&](const char* name) { return QString::fromStdString((fixtures_ / name).string()); };
    // fill-mask, gradient x input: the top word at the mask, a score per token.
    Run r = cli({"explain", model("mlm_small"), "--backend", "cpu", "--task", "fill-mask", "--text", "the cat sat on the [MASK] ."});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out["tokens"].size(), size_t(9));  // [CLS] the cat sat on the [MASK] . [SEP]
    QCOMPARE(r.out["target"]["position"].get<int>(), 6);
    QCOMPARE(r.out["method"].get<std::string>(), std::string("grad-input"));
    for (const auto& t : r.out["tokens"]) QVERIFY(t["score"].get<double>() >= 0 && t.contains("token"));
    // integrated gradients for a named word, with heads off: its completeness error.
    r = cli({"explain", model("mlm_small"), "--backend", "cpu", "--task", "fill-mask", "--text", "the cat sat on the [MASK] .",
             "--target", "mat", "--method", "ig", "--steps", "64", "--baseline", "pad", "--head-mask", "0:1"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out["target"]["word"].get<std::string>(), std::string("mat"));
    QCOMPARE(r.out["head_mask"].get<std::string>(), std::string("0:1"));
    double sum = 0;
    for (const auto& t : r.out["tokens"]) sum += t["score"].get<double>();
    const double change = r.out["target"]["logit"].get<double>() - r.out["baseline_logit"].get<double>();
    QVERIFY(std::fabs(sum - change - 0.0) <= r.out["completeness_error"].get<double>() + 1e-4);
    QVERIFY(r.out["completeness_error"].get<double>() < 0.05 * std::max(1.0, std::fabs(change)));
    // classify a named label; qa's end; ner's default (the first entity, else the first word).
    r = cli({"explain", model("cls_small"), "--backend", "cpu", "--task", "classify", "--text", "great food", "--target", "NEGATIVE"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out["target"]["label"].get<std::string>(), std::string("NEGATIVE"));
    r = cli({"explain", model("qa_small"), "--backend", "cpu", "--task", "qa", "--question", "who sat ?", "--text", "the cat sat .",
             "--target", "end"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out["target"]["logit_of"].get<std::string>(), std::string("end"));
    QVERIFY(r.out["target"]["position"].get<int>() >= 5);  // in the context: [CLS] who sat ? [SEP] the cat sat . [SEP]
    r = cli({"explain", model("bert_token"), "--backend", "cpu", "--task", "ner", "--text", "john lives in paris"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QVERIFY(r.out["target"]["position"].get<int>() >= 1 && r.out["target"].contains("label"));
    // --rank-heads: a layers x heads grid and a ranking of every head.
    r = cli({"explain", model("mlm_large"), "--backend", "cpu", "--task", "fill-mask", "--text", "the cat sat on the [MASK] .",
             "--rank-heads", "--head-mask", "2:2"});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    QCOMPARE(r.out["importance"].size(), size_t(3));
    QVERIFY(r.out["importance"][2][2].is_null());  // already off
    QCOMPARE(r.out["ranking"].size(), size_t(8));
    // Mistakes, in words.
    auto refused = [&](const QStringList& args, const char* says) {
      const Run bad = cli(args);
      return bad.code == 1 && bad.err.contains(says);
    };
    QVERIFY(refused({"explain", model("cls_small"), "--backend", "cpu", "--task", "classify", "--text", "x", "--target", "HAPPY"},
                    "is not one of the model's labels (NEGATIVE, POSITIVE)"));
    QVERIFY(refused({"explain", model("qa_small"), "--backend", "cpu", "--task", "qa", "--text", "x"}, "qa needs --question"));
    QVERIFY(refused({"explain", model("mlm_small"), "--backend", "cpu", "--task", "fill-mask", "--text", "no mask here"},
                    "the text has no mask token ([MASK]) for fill-mask to explain: write [MASK] in place of the word"));
    QVERIFY(refused({"explain", model("cls_small"), "--backend", "cpu", "--task", "fill-mask", "--text", "a [MASK]"},
                    "this model has no masked-LM head"));
    QVERIFY(refused({"explain", model("mlm_small"), "--backend", "cpu", "--task", "fill-mask", "--text", "a [MASK]", "--head-mask", "2:0"},
                    "layer 2 is out of range"));
  }

  // attention --rollout: the engine's rollout of the maps `attention` gives; --flow refuses long inputs.
  void cliRolloutAndFlow() {
    if (fixtures_.empty()) QSKIP(qPrintable(why_));
    const QString model = QString::fromStdString((fixtures_ / "mlm_large").string());
    const Run heads = cli({"attention", model, "--backend", "cpu", "--text", "the cat sat on the mat"});
    const Run rollout = cli({"attention", model, "--backend", "cpu", "--text", "the cat sat on the mat", "--rollout", "--layer", "-1"});
    QVERIFY2(heads.code == 0 && rollout.code == 0, qPrintable(heads.err + rollout.err));
    std::vector<std::vector<float>> maps;
    for (const auto& layer : heads.out["attentions"]) {
      std::vector<float> m;
      for (const auto& head : layer)
        for (const auto& row : head) m.insert(m.end(), row.begin(), row.end());
      maps.push_back(m);
    }
    const int T = static_cast<int>(heads.out["tokens"].size());
    const std::vector<float> want = attention_rollout(maps, 3, T).back();
    std::vector<float> got;
    for (const auto& row : rollout.out["attentions"][0][0]) got.insert(got.end(), row.begin(), row.end());
    QCOMPARE(rollout.out["layer_indices"], nlohmann::json({2}));
    QVERIFY(test::normalised_error(got, want) < 1e-6);
    const Run flow = cli({"attention", model, "--backend", "cpu", "--text", "the cat sat on the mat", "--flow"});
    QVERIFY2(flow.code == 0 && flow.out["attentions"].size() == 3, qPrintable(flow.err));
    QString text;
    for (int i = 0; i < 70; ++i) text += " cat";
    const Run long_flow = cli({"attention", model, "--backend", "cpu", "--text", text, "--flow"});
    QVERIFY2(long_flow.code == 1 && long_flow.err.contains("--flow takes at most 64 tokens; this input has 72"), qPrintable(long_flow.err));
  }

  // ---- attention rollout and flow, on maps small enough to work out by hand ----

  // Three layers of two heads over two tokens. Layer 0: the heads' mean is 0.5 everywhere, so A'_0 = [[.75 .25]
  // [.25 .75]]. Layer 1: both heads [[.2 .8] [1 0]], A'_1 = [[.6 .4] [.5 .5]]. Layer 2: head 1 switched off (all 0),
  // head 0 [[0 1] [1 0]]: 0.5 * mean + 0.5 I = [[.5 .25] [.25 .5]], rows renormalised: [[2/3 1/3] [1/3 2/3]].
  static std::vector<std::vector<float>> handMaps() {
    return {{1, 0, .5f, .5f, 0, 1, .5f, .5f}, {.2f, .8f, 1, 0, .2f, .8f, 1, 0}, {0, 1, 1, 0, 0, 0, 0, 0}};
  }
  static void compareMatrix(const std::vector<float>& got, const std::vector<double>& want, const char* what) {
    QCOMPARE(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
      QVERIFY2(std::fabs(got[i] - want[i]) < 1e-6, qPrintable(QString("%1[%2]: %3, expected %4").arg(what).arg(i).arg(got[i]).arg(want[i])));
  }

  void rolloutByHand() {
    const auto r = attention_rollout(handMaps(), 2, 2);
    QCOMPARE(r.size(), size_t(3));
    compareMatrix(r[0], {.75, .25, .25, .75}, "rollout 0");
    // A'_1 A'_0 = [[.6*.75 + .4*.25, .6*.25 + .4*.75], [.5*.75 + .5*.25, .5*.25 + .5*.75]]
    compareMatrix(r[1], {.55, .45, .5, .5}, "rollout 1");
    // A'_2 rollout_1 = [[2/3*.55 + 1/3*.5, 2/3*.45 + 1/3*.5], [1/3*.55 + 2/3*.5, 1/3*.45 + 2/3*.5]]
    compareMatrix(r[2], {1.6 / 3, 1.4 / 3, 1.55 / 3, 1.45 / 3}, "rollout 2");
  }

  void flowByHand() {
    const auto maps = handMaps();
    // One layer: the one edge from position i to token j, A'_0[i][j] (rows already sum to 1).
    compareMatrix(attention_flow(maps, 2, 2, 0), {.75, .25, .25, .75}, "flow 0");
    // Two layers: paths i -> k -> j, so the flow is sum_k min(A'_1[i][k], A'_0[k][j]):
    // row 0: min(.6,.75) + min(.4,.25) = .85 and min(.6,.25) + min(.4,.75) = .65; row 1: .75 and .75.
    compareMatrix(attention_flow(maps, 2, 2, 1, false), {.85, .65, .75, .75}, "raw flow 1");
    compareMatrix(attention_flow(maps, 2, 2, 1), {.85 / 1.5, .65 / 1.5, .5, .5}, "flow 1");
    // Three layers, from position 0 to token 1: the cut {source, (2,0), (1,0)} | rest costs
    // s->(2,1) 1/3 + (2,0)->(1,1) .4 + (1,0)->token 1 .25 = 59/60, and a flow reaches it: (2,0) sends .4 to (1,1) and
    // .25 to (1,0), (2,1) sends 1/3 to (1,1) (which passes .4 + 1/3 <= .75 on). To token 0 the whole unit gets through.
    const std::vector<float> raw = attention_flow(maps, 2, 2, 2, false);
    QVERIFY2(std::fabs(raw[0] - 1.0) < 1e-6 && std::fabs(raw[1] - 59.0 / 60) < 1e-6,
             qPrintable(QString("raw flow 2, row 0: %1 %2").arg(raw[0]).arg(raw[1])));
    const std::vector<float> flow = attention_flow(maps, 2, 2, 2);
    QVERIFY(std::fabs(flow[0] - 60.0 / 119) < 1e-6 && std::fabs(flow[0] + flow[1] - 1) < 1e-6);
  }

  void flowRefusesLongInputs() {
    const int T = kAttentionFlowMaxTokens + 1;
    const std::vector<std::vector<float>> maps(1, std::vector<float>(static_cast<size_t>(T) * T, 1.0f / T));
    QVERIFY(!attention_rollout(maps, 1, T).empty());  // rollout takes any length
    try {
      attention_flow(maps, 1, T, 0);
      QFAIL("flow over 65 tokens was not refused");
    } catch (const Error& e) {
      QVERIFY2(QString(e.what()).contains("at most 64 tokens") && QString(e.what()).contains("has 65"), e.what());
    }
  }

  // The paper's bound on cost: 64 tokens through 12 layers of 12 heads (bert-base's shape), flow for the last layer.
  void flowAt64TokensTakesSeconds() {
    const int T = kAttentionFlowMaxTokens, A = 12, L = 12;
    std::vector<std::vector<float>> maps;
    std::uint32_t seed = 7;
    for (int l = 0; l < L; ++l) {
      std::vector<float> m(static_cast<size_t>(A) * T * T);
      for (size_t row = 0; row < m.size() / T; ++row) {
        float sum = 0;
        for (int j = 0; j < T; ++j) sum += (m[row * T + j] = std::exp(4.0f * ((seed = seed * 1664525u + 1013904223u) >> 8) / 16777216.0f));
        for (int j = 0; j < T; ++j) m[row * T + j] /= sum;
      }
      maps.push_back(std::move(m));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<float> flow = attention_flow(maps, A, T, L - 1);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    qInfo("attention flow, 64 tokens, 12 layers x 12 heads, last layer: %.2f s", s);
    QVERIFY(s < 120);  // seconds on 2 cores; a generous bound against a pathological slowdown
    for (int i = 0; i < T; ++i) {
      double sum = 0;
      for (int j = 0; j < T; ++j) sum += flow[static_cast<size_t>(i) * T + j];
      QVERIFY(std::fabs(sum - 1) < 1e-4);
    }
  }
};

QTEST_GUILESS_MAIN(TestExplain)
#include "test_explain.moc"
