// The training loop every fine-tuning task shares (issue 16, "The training defaults and loop"): the defaults fitted
// to the model (one rule for the CLI and the GUI), progress throttled to a few reports a second, early stopping on
// the validation score that ends with the best epoch's weights (and saves those), and one cancel rule: a run
// interrupted before its last validation completes is cancelled. The CLI's side: what it prints and saves.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/backend.h"
#include "backend_choice.h"
#include "core/error.h"
#include "data/dataset.h"
#include "model/pretrained.h"
#include "model/random_model.h"
#include "test_support.h"
#include "train/fine_tune.h"
#include "train/training_defaults.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

// Sentences of two kinds, labelled 0 and 1.
std::vector<Example> reviews(int per_label) {
  std::vector<Example> out;
  for (int i = 0; i < per_label; ++i) {
    out.push_back({"the film was good and fun " + std::to_string(i), 1, 2 * i + 2});
    out.push_back({"the film was bad and dull " + std::to_string(i), 0, 2 * i + 3});
  }
  return out;
}

struct CliRun {
  int exit_code = -1;
  QString err;
  nlohmann::json out;  // the last stdout line, parsed (null when none)
};

CliRun run_cli(const QStringList& args) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_NUM_THREADS", "1");
  p.setProcessEnvironment(env);
  p.start(BERTSCOPE_CLI, args);
  CliRun r;
  if (!p.waitForFinished(300000)) return r;
  r.exit_code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.err = QString::fromUtf8(p.readAllStandardError());
  const QList<QByteArray> lines = p.readAllStandardOutput().trimmed().split('\n');
  if (!lines.isEmpty() && !lines.last().isEmpty()) r.out = nlohmann::json::parse(lines.last().toStdString(), nullptr, false);
  return r;
}

}  // namespace

class TestTrainingLoop : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path model_, csv_;
  std::unique_ptr<Backend> cpu_ = make_backend({BackendKind::Cpu});

  std::unique_ptr<BertTrainer> trainer() {
    TrainerOptions options;
    options.labels = {"neg", "pos"};
    options.dropout = 0;
    return std::make_unique<BertTrainer>(model_, *cpu_, options);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    model_ = fs::path(dir_.path().toStdString()) / "tiny";
    write_random_model(model_, test::tiny_model_spec(dir_));
    csv_ = fs::path(dir_.path().toStdString()) / "reviews.csv";
    std::ofstream out(csv_);
    out << "text,label\n";
    for (const Example& e : reviews(15)) out << e.text << "," << (e.label ? "pos" : "neg") << "\n";
  }

  // --- the defaults -------------------------------------------------------------------------------------------

  void defaultsFollowTheModelsSize() {
    ModelShape shipped;  // resources/default-model: 4 layers x 256, pre-trained, a new classifier
    shipped.parameters = 4'790'000;
    shipped.hidden = 256;
    shipped.layers = 4;
    TrainingDefaults d = training_defaults(shipped);
    QCOMPARE(d.epochs, 5);  // 86.5% on the sentiment split, where 5e-5 x 3 gave 78%
    QCOMPARE(d.learning_rate, 1e-4f);
    QCOMPARE(d.batch_size, 16);
    QCOMPARE(d.warmup_ratio, 0.1f);
    QCOMPARE(d.weight_decay, 0.01f);

    ModelShape base{110'000'000, 768, 12, false, false};
    d = training_defaults(base);
    QCOMPARE(d.epochs, 3);
    QCOMPARE(d.learning_rate, 5e-5f);
    ModelShape large{335'000'000, 1024, 24, false, false};
    QCOMPARE(training_defaults(large).learning_rate, 2e-5f);
    ModelShape medium{41'000'000, 512, 8, false, false};
    QCOMPARE(training_defaults(medium).epochs, 4);
    QCOMPARE(training_defaults(medium).learning_rate, 1e-4f);

    ModelShape random = shipped;  // random weights: the largest rate of the BERT miniatures' grid
    random.untrained = true;
    QCOMPARE(training_defaults(random).learning_rate, 3e-4f);

    ModelShape fitted = base;  // a head the checkpoint already has: gentler and shorter
    fitted.pretrained_head = true;
    d = training_defaults(fitted);
    QCOMPARE(d.learning_rate, 2.5e-5f);
    QCOMPARE(d.epochs, 2);
    QVERIFY(d.why.find("already trained") != std::string::npos);

    const std::string text = describe_defaults(shipped, training_defaults(shipped));
    QVERIFY2(text.find("a 4.79M-parameter model (4 layers x 256 hidden, new head): 5 epochs, lr 1e-4, batch 16") == 0,
             text.c_str());
    QCOMPARE(learning_rate_text(5e-5), std::string("5e-5"));
    QCOMPARE(learning_rate_text(2.5e-5), std::string("2.5e-5"));
    QCOMPARE(learning_rate_text(3e-4f), std::string("3e-4"));
    QCOMPARE(parameter_count_text(110'000'000), std::string("110M"));
    QCOMPARE(parameter_count_text(36'500), std::string("36.5K"));
  }

  void theTrainerSaysWhetherItsHeadIsNew() {
    QVERIFY(trainer()->head_is_new());  // a masked-LM checkpoint: the classifier starts from N(0, 0.02)
    const fs::path saved = fs::path(dir_.path().toStdString()) / "classifier";
    trainer()->save(saved);
    TrainerOptions same;
    same.labels = {"neg", "pos"};
    QVERIFY(!BertTrainer(saved, *cpu_, same).head_is_new());  // its own classifier, same labels: kept
    same.labels = {"bad", "good", "meh"};
    QVERIFY(BertTrainer(saved, *cpu_, same).head_is_new());  // other labels: a new classifier
    QVERIFY(checkpoint_has_head(open_pretrained(saved).config, TrainHead::SequenceClassification));
    QVERIFY(!checkpoint_has_head(open_pretrained(saved).config, TrainHead::QuestionAnswering));
  }

  // --- progress -----------------------------------------------------------------------------------------------

  void progressIsThrottled() {
    ProgressThrottle throttle(10);
    int passed = 0, calls = 0;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(450)) {
      passed += throttle.due();
      ++calls;
    }
    QVERIFY2(passed >= 4 && passed <= 6, qPrintable(QString("%1 of %2 reports passed in 0.45 s").arg(passed).arg(calls)));
    QVERIFY(throttle.due(true));  // forced: an epoch's end always shows
    TrainProgress p;
    p.epochs = 2;
    p.total_steps = 10;
    p.epoch = 1;
    p.step = 5;
    QVERIFY(ProgressThrottle::ends_epoch(p));
    p.step = 4;
    QVERIFY(!ProgressThrottle::ends_epoch(p));
  }

  void theLoopSmoothsTheLossOverEveryStep() {
    auto t = trainer();
    FineTuneOptions o;
    o.epochs = 1;
    o.batch_size = 4;
    o.max_length = 16;
    std::vector<TrainProgress> seen;
    FineTuneCallbacks callbacks;
    callbacks.progress = [&](const TrainProgress& p) { seen.push_back(p); };
    const auto tokenizer = open_pretrained(model_).tokenizer;
    fine_tune(*t, *tokenizer, reviews(8), {}, o, callbacks);
    QCOMPARE(int(seen.size()), 4);
    double smoothed = seen[0].step_loss;
    QCOMPARE(seen[0].smoothed_loss, smoothed);
    for (size_t i = 1; i < seen.size(); ++i) {
      smoothed = 0.9 * smoothed + 0.1 * seen[i].step_loss;
      QVERIFY(std::fabs(seen[i].smoothed_loss - smoothed) < 1e-12);
    }
  }

  // --- early stopping -----------------------------------------------------------------------------------------

  // A validation score that peaks at epoch 2 (scripted: the loop's logic is what is tested), patience 2: epochs 3
  // and 4 bring nothing better, so the run stops after epoch 4 and ends holding epoch 2's weights, which it saves.
  void earlyStoppingKeepsTheBestEpochsWeights() {
    auto t = trainer();
    const auto tokenizer = open_pretrained(model_).tokenizer;
    const std::vector<Example> train = reviews(8);
    const std::vector<double> scores = {0.5, 0.9, 0.6, 0.9, 0.95, 0.99};
    std::vector<std::vector<std::vector<float>>> weights_after;  // each epoch's
    FineTuneOptions o;
    o.epochs = 6;
    o.batch_size = 4;
    o.max_length = 16;
    o.learning_rate = 1e-3f;
    o.patience = 2;
    FineTuneCallbacks callbacks;
    callbacks.epoch_done = [&](const EpochResult&) { weights_after.push_back(t->parameter_values()); };
    auto batch_of = [&](const std::vector<size_t>& indices) {
      std::vector<const Example*> chunk;
      TrainBatch b;
      for (size_t i : indices) {
        chunk.push_back(&train[i]);
        b.labels.push_back(train[i].label);
      }
      b.tokens = sentence_batch(*tokenizer, chunk, o.max_length);
      return b;
    };
    auto validate = [&](EpochResult& r) {
      r.validation.count = 10;
      r.validation.accuracy = scores.at(size_t(r.epoch - 1));
    };
    const FineTuneResult result = train_epochs(*t, train.size(), batch_of, validate, o, callbacks);
    QVERIFY(!result.cancelled);
    QCOMPARE(int(result.epochs.size()), 4);  // 2 more epochs than the best, then stopped (a tie is no better)
    QVERIFY(result.stopped_early);
    QCOMPARE(result.kept_epoch, 2);
    QVERIFY(weights_after[1] != weights_after[3]);  // the weights did move after epoch 2
    QVERIFY(t->parameter_values() == weights_after[1]);
    // Saved and read back: epoch 2's weights, exactly, and its predictions.
    const fs::path saved = fs::path(dir_.path().toStdString()) / "best";
    t->save(saved);
    TrainerOptions reload;
    reload.labels = {"neg", "pos"};
    BertTrainer again(saved, *cpu_, reload);
    QVERIFY(!again.head_is_new());
    QVERIFY(again.parameter_values() == weights_after[1]);
    QCOMPARE(predict(again, *tokenizer, train, o.max_length), predict(*t, *tokenizer, train, o.max_length));
  }

  void withoutPatienceEveryEpochRunsAndTheLastIsKept() {
    auto t = trainer();
    const auto tokenizer = open_pretrained(model_).tokenizer;
    FineTuneOptions o;
    o.epochs = 3;
    o.batch_size = 8;
    o.max_length = 16;
    const FineTuneResult result = fine_tune(*t, *tokenizer, reviews(6), reviews(2), o);
    QCOMPARE(int(result.epochs.size()), 3);
    QCOMPARE(result.kept_epoch, 3);
    QVERIFY(!result.stopped_early);
    o.patience = -1;
    QVERIFY_THROWS_EXCEPTION(Error, fine_tune(*t, *tokenizer, reviews(6), reviews(2), o));
  }

  // --- cancelling ---------------------------------------------------------------------------------------------

  // The rule for every task: a cancel that arrives before the last validation has completed cancels the run.
  void aCancelDuringTheLastValidationCancelsTheRun() {
    auto t = trainer();
    const auto tokenizer = open_pretrained(model_).tokenizer;
    const std::vector<Example> train = reviews(4);
    FineTuneOptions o;
    o.epochs = 2;
    o.batch_size = 8;
    o.max_length = 16;
    bool cancel = false;
    int epochs_done = 0;
    FineTuneCallbacks callbacks;
    callbacks.cancelled = [&] { return cancel; };
    callbacks.epoch_done = [&](const EpochResult&) { ++epochs_done; };
    auto batch_of = [&](const std::vector<size_t>& indices) {
      std::vector<const Example*> chunk;
      TrainBatch b;
      for (size_t i : indices) {
        chunk.push_back(&train[i]);
        b.labels.push_back(train[i].label);
      }
      b.tokens = sentence_batch(*tokenizer, chunk, o.max_length);
      return b;
    };
    auto validate = [&](EpochResult& r) {
      if (r.epoch == 2) cancel = true;  // Ctrl+C while the last validation runs
      r.validation.count = 1;
    };
    const FineTuneResult result = train_epochs(*t, train.size(), batch_of, validate, o, callbacks);
    QVERIFY(result.cancelled);
    QCOMPARE(int(result.epochs.size()), 1);  // the interrupted epoch is not reported as done
    QCOMPARE(epochs_done, 1);
  }

  // --- the CLI ------------------------------------------------------------------------------------------------

  void theCliSaysWhichDefaultsItChose() {
    const QString out = dir_.filePath("cli-defaults");
    const CliRun r = run_cli({"train", QString::fromStdString(model_.string()), "--csv", QString::fromStdString(csv_.string()),
                              "--text-column", "text", "--label-column", "label", "--out", out, "--max-length", "16",
                              "--backend", "cpu"});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    // The tiny test model: 16 hidden units, a new classifier.
    QVERIFY2(r.err.contains(QRegularExpression("bertscope: defaults for a [0-9.]+K-parameter model \\(1 layers x 16 hidden, "
                                               "new head\\): 5 epochs, lr 1e-4, batch 16, warm-up 10%; .*\\(pass --epochs/--lr "
                                               "to change\\)\n")),
             qPrintable(r.err));
    QCOMPARE(int(r.out["epochs"].size()), 5);
    QCOMPARE(r.out["kept_epoch"].get<int>(), 5);
    QVERIFY(!r.err.contains("kept epoch"));  // no --patience: nothing to say
    // A small run prints few progress lines: about one a second and each epoch's end, not one per step.
    QVERIFY2(r.err.count("\nstep ") <= 5 + 2 + int(r.out["seconds"].get<double>()), qPrintable(r.err));
  }

  void explicitValuesWinAndPatienceReportsTheKeptEpoch() {
    const QString out = dir_.filePath("cli-explicit");
    const CliRun r = run_cli({"train", QString::fromStdString(model_.string()), "--csv", QString::fromStdString(csv_.string()),
                              "--text-column", "text", "--label-column", "label", "--out", out, "--max-length", "16",
                              "--epochs", "6", "--lr", "3e-5", "--patience", "1", "--backend", "cpu"});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    QVERIFY2(!r.err.contains("defaults for"), qPrintable(r.err));  // both given: nothing was chosen for the user
    const int kept = r.out["kept_epoch"].get<int>();
    const int ran = int(r.out["epochs"].size());
    QVERIFY(kept >= 1 && kept <= ran);
    QVERIFY2(r.err.contains(QStringLiteral("bertscope: kept epoch %1's weights (best validation accuracy").arg(kept)), qPrintable(r.err));
    // The reported scores are the kept epoch's, which is the saved model.
    QCOMPARE(r.out["accuracy"], r.out["epochs"][size_t(kept - 1)]["validation"]["accuracy"]);
    const bool early = r.out["stopped_early"].get<bool>();
    QCOMPARE(early, ran < 6);
    if (early) QVERIFY(r.err.contains(QStringLiteral("stopped early after epoch %1").arg(ran)));
    const CliRun bad = run_cli({"train", QString::fromStdString(model_.string()), "--csv", QString::fromStdString(csv_.string()),
                                "--text-column", "text", "--label-column", "label", "--out", dir_.filePath("never"),
                                "--patience", "-2", "--backend", "cpu"});
    QVERIFY(bad.exit_code != 0);
    QVERIFY2(bad.err.contains("--patience must be 0"), qPrintable(bad.err));
    QVERIFY(!fs::exists(dir_.filePath("never").toStdString()));
  }

  void theExportedScriptCarriesTheFittedDefaults() {
    const QString script = dir_.filePath("job.py");
    const CliRun r = run_cli({"train", QString::fromStdString(model_.string()), "--csv", QString::fromStdString(csv_.string()),
                              "--text-column", "text", "--label-column", "label", "--out", dir_.filePath("job-out"),
                              "--patience", "2", "--batch-size", "8", "--export-script", script});
    QVERIFY2(r.exit_code == 0, qPrintable(r.err));
    QCOMPARE(r.out["job"]["epochs"].get<int>(), 5);
    QVERIFY(std::fabs(r.out["job"]["learning_rate"].get<double>() - 1e-4) < 1e-9);
    QCOMPARE(r.out["job"]["batch_size"].get<int>(), 8);  // given
    QCOMPARE(r.out["job"]["patience"].get<int>(), 2);
    QCOMPARE(r.out["job"]["revision"].get<std::string>(), std::string());  // a folder, not a Hub id
  }
};

QTEST_GUILESS_MAIN(TestTrainingLoop)
#include "test_training_loop.moc"
