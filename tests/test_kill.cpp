// A training job killed with SIGKILL leaves no half-written folder where a model was expected and removes no file of
// the user's, and a pre-training run resumes from its last complete checkpoint. Real bertscope-cli runs are killed at
// chosen moments: early, mid-epoch, and at each stage of saving a model. BERTSCOPE_TEST_PAUSE_AT (core/test_hooks.h)
// holds the process at that moment, so the kill lands there every time instead of by luck.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "model/random_model.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "train/pretraining.h"

using namespace bertscope;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

QStringList q(const std::vector<std::string>& args) {
  QStringList list;
  for (const auto& a : args) list << QString::fromStdString(a);
  return list;
}

// The runs' environment: one thread (tiny models; OpenMP threads spinning on a busy 2-core machine only slow them).
QProcessEnvironment child_environment() {
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("OMP_NUM_THREADS", "1");
  return env;
}

// Starts the CLI and kills it with SIGKILL: right away when `pause` is empty, else once it stops at `pause`
// (BERTSCOPE_TEST_PAUSE_AT). Fails if it ends by itself first.
void run_and_kill(const std::vector<std::string>& args, const QString& pause, bool no_exchange) {
  QProcess p;
  QProcessEnvironment env = child_environment();
  if (!pause.isEmpty()) env.insert("BERTSCOPE_TEST_PAUSE_AT", pause);
  if (no_exchange) env.insert("BERTSCOPE_TEST_NO_RENAME_EXCHANGE", "1");
  p.setProcessEnvironment(env);
  // The pause is announced on stderr: wait for that channel (waitForReadyRead watches only the read channel, and
  // on stdout it would sit out the whole pause, a minute each time).
  p.setReadChannel(QProcess::StandardError);
  p.start(BERTSCOPE_CLI, q(args));
  QVERIFY(p.waitForStarted());
  const QByteArray marker = "test pause at " + pause.section(':', 0, 0).toUtf8();
  QByteArray err;
  while (!pause.isEmpty() && !err.contains(marker)) {
    if (p.state() == QProcess::NotRunning || !p.waitForReadyRead(120000)) {
      p.waitForFinished(1000);
      err += p.readAllStandardError();
      QFAIL(qPrintable(QString("the run ended (exit %1) before \"%2\": %3").arg(p.exitCode()).arg(pause, QString(err))));
    }
    err += p.readAllStandardError();
  }
  p.kill();  // SIGKILL
  QVERIFY(p.waitForFinished(30000));
  QCOMPARE(p.exitStatus(), QProcess::CrashExit);
}

// Runs the CLI to the end; returns its exit code (stderr is shown when it fails).
int run(const std::vector<std::string>& args) {
  QProcess p;
  p.setProcessEnvironment(child_environment());
  p.start(BERTSCOPE_CLI, q(args));
  if (!p.waitForFinished(300000)) return -1;
  if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) qWarning("%s", p.readAllStandardError().constData());
  return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
}

// The steps of curve.csv, in order.
std::vector<int> curve_steps(const fs::path& curve) {
  std::vector<int> steps;
  std::ifstream in(curve);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) steps.push_back(std::stoi(line));
  return steps;
}

}  // namespace

class TestKill : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  fs::path root() const { return dir_.path().toStdString(); }
  fs::path base_, csv_, corpus_, vocab_;
  std::string csv_content_, corpus_content_, vocab_content_;  // the user's files, to check they are untouched
  int train_runs_ = 0, pretrain_runs_ = 0;

  // A sentence classifier fine-tuned into `out` (2 epochs of 10 steps), and a pre-training run in `run`: 6 steps,
  // a checkpoint every 2.
  std::vector<std::string> train_args(const fs::path& out) const {
    return {"train", base_.string(), "--csv", csv_.string(), "--text-column", "text", "--label-column", "label",
            "--out", out.string(), "--epochs", "2", "--batch-size", "2", "--max-length", "16", "--backend", "cpu"};
  }
  std::vector<std::string> pretrain_args(const fs::path& run) const {
    return {"pretrain", run.string(), "--corpus", corpus_.string(), "--vocab", vocab_.string(), "--layers", "1",
            "--hidden", "16", "--heads", "2", "--intermediate", "32", "--max-positions", "32", "--seq-len", "16",
            "--batch-size", "2", "--steps", "6", "--warmup", "1", "--checkpoint-every", "2", "--log-every", "1",
            "--backend", "cpu"};
  }

  // `out` is absent, or a complete model that loads and classifies.
  static void checkModelOrNothing(const fs::path& out, const char* what) {  // what: for the message
    if (!fs::exists(out)) return;
    try {
      Session session(out, {BackendKind::Cpu});
      const ClassifyResult r = classify(session.model(), session.tokenizer(), "a good film");
      QVERIFY2(r.scores.size() == 2, what);
    } catch (const std::exception& e) {
      QFAIL(qPrintable(QString("%1: %2 is half-written: %3").arg(what, QString::fromStdString(out.string()), e.what())));
    }
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    base_ = root() / "base";
    write_random_model(base_, test::tiny_model_spec(dir_));
    vocab_ = test::small_vocab(dir_);
    csv_ = root() / "reviews.csv";
    {
      std::ofstream out(csv_);
      out << "text,label\n";
      for (int i = 0; i < 12; ++i) out << "the film was good and fun " << i << ",pos\nthe film was bad and dull " << i << ",neg\n";
    }
    corpus_ = root() / "corpus.txt";
    {
      std::ofstream out(corpus_);
      for (int i = 0; i < 40; ++i) out << "the cat sat on the mat and the dog slept by the door of the house\n";
    }
    csv_content_ = read(csv_);
    corpus_content_ = read(corpus_);
    vocab_content_ = read(vocab_);
  }

  // --- train: --out is absent or a complete model, whatever the moment of the kill -----------------------------

  void aKilledFineTuningLeavesNoHalfWrittenModel_data() {
    QTest::addColumn<QString>("pause");
    QTest::newRow("early (just started)") << "";
    QTest::newRow("first step") << "train-step:1";
    QTest::newRow("mid-epoch") << "train-step:5";
    QTest::newRow("half of model.safetensors written") << "safetensors-half-written";
    QTest::newRow("every file written, none flushed") << "staged-written";
    QTest::newRow("flushed, not yet in place") << "staged-flushed";
  }

  void aKilledFineTuningLeavesNoHalfWrittenModel() {
    QFETCH(QString, pause);
    const fs::path work = root() / "train";
    fs::create_directories(work);
    std::ofstream(work / "thesis.txt") << "four years of work";
    const fs::path out = work / ("out" + std::to_string(++train_runs_));
    run_and_kill(train_args(out), pause, false);
    QVERIFY(!fs::exists(out));  // nothing was complete yet, so nothing is there
    QCOMPARE(read(work / "thesis.txt"), std::string("four years of work"));
    QCOMPARE(read(csv_), csv_content_);
    QCOMPARE(run(train_args(out)), 0);  // and the same command then works
    QVERIFY(fs::exists(out / "model.safetensors"));
    checkModelOrNothing(out, "rerun");
  }

  // --- Ctrl+C: one rule for every task ------------------------------------------------------------------------

  // A run interrupted before its last validation has completed is cancelled and saves nothing, whichever the task
  // (question answering's validation stops part-way; the others' run to their end first). The interrupt is a real
  // SIGINT, raised at the start of epoch 2's validation (BERTSCOPE_TEST_INTERRUPT_AT).
  void anInterruptDuringTheLastValidationSavesNothing_data() {
    QTest::addColumn<QString>("task");
    QTest::newRow("classification") << "classification";
    QTest::newRow("ner") << "ner";
    QTest::newRow("qa") << "qa";
  }

  void anInterruptDuringTheLastValidationSavesNothing() {
    QFETCH(QString, task);
    const fs::path work = root() / "interrupt";
    fs::create_directories(work);
    const fs::path conll = work / "people.conll", squad = work / "facts.json";
    if (!fs::exists(conll)) {
      std::ofstream out(conll);
      for (int i = 0; i < 8; ++i) out << "John B-PER\nSmith I-PER\nlives O\nin O\nParis B-LOC\n. O\n\n";
    }
    if (!fs::exists(squad)) {
      std::ofstream out(squad);
      nlohmann::json paragraphs = nlohmann::json::array();
      for (int i = 0; i < 4; ++i)
        paragraphs.push_back({{"context", "the cat sat on the mat by the door."},
                              {"qas", {{{"id", "q" + std::to_string(i)}, {"question", "where did the cat sit?"},
                                        {"answers", {{{"text", "on the mat"}, {"answer_start", 12}}}}}}}});
      out << nlohmann::json{{"data", {{{"title", "t"}, {"paragraphs", paragraphs}}}}}.dump();
    }
    const fs::path out = work / ("out-" + task.toStdString());
    std::vector<std::string> args = train_args(out);  // classification: 2 epochs, validation held out
    if (task == "ner")
      args = {"train", base_.string(), "--task", "ner", "--train", conll.string(), "--validation", conll.string(), "--out",
              out.string(), "--epochs", "2", "--batch-size", "4", "--max-length", "16", "--backend", "cpu"};
    if (task == "qa")
      args = {"train", base_.string(), "--task", "qa", "--train", squad.string(), "--validation", squad.string(), "--out",
              out.string(), "--epochs", "2", "--batch-size", "4", "--max-seq-length", "32", "--doc-stride", "8",
              "--backend", "cpu"};
    QProcess p;
    QProcessEnvironment env = child_environment();
    env.insert("BERTSCOPE_TEST_INTERRUPT_AT", "validation:2");
    p.setProcessEnvironment(env);
    p.start(BERTSCOPE_CLI, q(args));
    QVERIFY(p.waitForFinished(120000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QVERIFY2(err.contains("test interrupt at validation"), qPrintable(err));
    QVERIFY2(p.exitCode() == 130, qPrintable(err));
    QVERIFY2(err.contains("bertscope: cancelled; nothing was saved"), qPrintable(err));
    QVERIFY2(err.contains("epoch 1: train loss") && !err.contains("epoch 2: train loss"), qPrintable(err));
    QVERIFY(!fs::exists(out));
  }

  // Replacing a model is not among the moments: no command replaces an existing folder (core/safe_files.h; tested in
  // test_hardening). The one folder ever swapped, a pre-training run's own checkpoint, is killed mid-swap below.

  // --- pretrain: no run, or one that resumes from its last complete checkpoint ----------------------------------

  void aKilledPretrainingRunResumesFromItsLastCheckpoint_data() {
    QTest::addColumn<QString>("pause");
    QTest::addColumn<bool>("no_exchange");
    // The saves of a new run: #1 its random model (model.safetensors #1), #2 the run folder; then the checkpoint at
    // step 2: its model.safetensors (#2) and optimizer.safetensors (#3), its folder (#3).
    QTest::newRow("early (just started)") << "" << false;
    QTest::newRow("random model half-written") << "safetensors-half-written:1" << false;
    QTest::newRow("new run flushed, not yet in place") << "staged-flushed:2" << false;
    QTest::newRow("step 3 logged, last checkpoint at 2") << "pretrain-step:3" << false;
    QTest::newRow("optimizer state half-written") << "safetensors-half-written:3" << false;
    QTest::newRow("checkpoint flushed, not yet in place") << "staged-flushed:3" << false;
    QTest::newRow("checkpoint swapped, old not yet removed") << "staged-swapped:3" << false;
    QTest::newRow("no atomic swap: between the renames") << "staged-between-renames:1" << true;
  }

  void aKilledPretrainingRunResumesFromItsLastCheckpoint() {
    QFETCH(QString, pause);
    QFETCH(bool, no_exchange);
    const fs::path work = root() / "pretrain";
    if (!fs::exists(work / "reference")) {  // uninterrupted, once
      fs::create_directories(work);
      std::ofstream(work / "notes.txt") << "mine";
      QCOMPARE(run(pretrain_args(work / "reference")), 0);
    }
    const fs::path run_dir = work / ("run" + std::to_string(++pretrain_runs_));
    run_and_kill(pretrain_args(run_dir), pause, no_exchange);
    if (fs::exists(run_dir)) {  // never a folder that the next start must refuse
      try {
        check_pretraining_run_folder(run_dir);
      } catch (const Error& e) {
        QFAIL(qPrintable(QString("the run cannot resume: ") + e.what()));
      }
    }
    QCOMPARE(run(pretrain_args(run_dir)), 0);
    // Resumed from its last complete checkpoint, it ends exactly as the uninterrupted run, and logged each step once.
    for (const char* file : {"model.safetensors", "optimizer.safetensors"})
      QVERIFY2(read(run_dir / "checkpoint" / file) == read(work / "reference" / "checkpoint" / file), file);
    QCOMPARE(curve_steps(run_dir / "curve.csv"), (std::vector<int>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(read(corpus_), corpus_content_);
    QCOMPARE(read(vocab_), vocab_content_);
    QCOMPARE(read(work / "notes.txt"), std::string("mine"));
  }
};

QTEST_GUILESS_MAIN(TestKill)
#include "test_kill.moc"
