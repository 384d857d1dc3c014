// The Fine-tune view's side of the training loop (issue 16): the hyper-parameters start from the defaults fitted to
// the model and task (the same rule as bertscope-cli train), with a note saying why, and values the user changed are
// kept; TrainingJob reports progress about 10 times a second however fast the steps; early stopping's kept epoch is
// reported.
#include <QElapsedTimer>
#include <QLabel>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>

#include "fine_tune_page.h"
#include "model/random_model.h"
#include "test_support.h"
#include "training_job.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {

Ptr<LoadedModel> model_of(int layers, int hidden, std::int64_t parameters, bool classifier = false) {
  auto m = std::make_shared<LoadedModel>();
  m->info.layers = layers;
  m->info.hidden = hidden;
  m->info.parameters = parameters;
  m->classifier = classifier;
  return m;
}

std::vector<Example> reviews(int per_label) {
  std::vector<Example> out;
  for (int i = 0; i < per_label; ++i) {
    out.push_back({"the film was good " + std::to_string(i), 1, 0});
    out.push_back({"the film was bad " + std::to_string(i), 0, 0});
  }
  return out;
}

}  // namespace

class TestGuiTrainingLoop : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path model_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    model_ = fs::path(dir_.path().toStdString()) / "tiny";
    write_random_model(model_, test::tiny_model_spec(dir_));
  }

  void hyperParametersStartFromTheFittedDefaults() {
    FineTunePage page;
    page.setTask(FineTuneTask::SentenceClassification);
    page.setModel(model_of(4, 256, 4'790'000));  // the shipped default model's shape
    QCOMPARE(page.epochs(), 5);
    QVERIFY(std::fabs(page.learningRate() - 1e-4) < 1e-9);
    QCOMPARE(page.defaultsNote()->text(), QStringLiteral("Defaults for this 4.79M-parameter model: 5 epochs, learning rate 1e-4."));
    QVERIFY2(page.defaultsNote()->toolTip().contains("4.79M-parameter model (4 layers x 256 hidden, new head): 5 epochs, lr 1e-4"),
             qPrintable(page.defaultsNote()->toolTip()));
    QCOMPARE(page.patience()->value(), 0);  // early stopping is off until asked for

    // The user's learning rate stays; the epochs, still the fitted ones, follow the next model and task.
    page.setLearningRate(3e-5);
    page.setModel(model_of(12, 768, 109'000'000, /*classifier=*/true));
    QVERIFY(std::fabs(page.learningRate() - 3e-5) < 1e-9);
    QCOMPARE(page.epochs(), 2);  // BERT-base with its own classifier: one epoch fewer than 3
    QVERIFY2(page.defaultsNote()->toolTip().contains("trained head"), qPrintable(page.defaultsNote()->toolTip()));
    page.setTask(FineTuneTask::TokenClassification);  // the classifier is no token head: a new head, 3 epochs
    QCOMPARE(page.epochs(), 3);
    QVERIFY(std::fabs(page.learningRate() - 3e-5) < 1e-9);
    page.setEpochs(7);
    page.setTask(FineTuneTask::SentenceClassification);
    QCOMPARE(page.epochs(), 7);  // changed by the user: kept
  }

  // 600 steps of a one-layer, 16-unit model take a second or two: one progress signal per step would be hundreds a
  // second. The job lets through about 10 a second, plus each epoch's last step.
  void progressIsThrottledToAboutTenASecond() {
    TrainingJob job;
    QSignalSpy progress(&job, &TrainingJob::progress);
    QSignalSpy finished(&job, &TrainingJob::finished);
    QSignalSpy kept(&job, &TrainingJob::keptEpoch);
    TrainingSetup setup;
    setup.model = model_;
    setup.backend = {BackendKind::Cpu};
    setup.labels = {"neg", "pos"};
    setup.train = reviews(150);
    setup.validation = reviews(3);
    setup.options.epochs = 2;
    setup.options.batch_size = 1;
    setup.options.max_length = 12;
    setup.options.patience = 1;
    QElapsedTimer clock;
    clock.start();
    job.start(setup);
    QVERIFY(finished.wait(120000));
    const double seconds = clock.elapsed() / 1000.0;
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY2(finished.first().at(1).toString().isEmpty(), qPrintable(finished.first().at(1).toString()));
    const int steps = 600;
    const int bound = int(10 * seconds) + setup.options.epochs + 2;
    QVERIFY2(progress.count() <= bound && progress.count() < steps,
             qPrintable(QString("%1 progress signals for %2 steps in %3 s").arg(progress.count()).arg(steps).arg(seconds)));
    const auto last = progress.last().at(0).value<TrainProgress>();
    QCOMPARE(last.step, last.total_steps);  // the end always shows
    QCOMPARE(last.total_steps, steps);
    QCOMPARE(kept.count(), 1);
    QVERIFY(kept.first().at(0).toInt() >= 1 && kept.first().at(0).toInt() <= 2);
    QCOMPARE(kept.first().at(2).toBool(), true);
  }
};

QTEST_MAIN(TestGuiTrainingLoop)
#include "test_gui_training_loop.moc"
