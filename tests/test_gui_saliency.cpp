// Saliency in the task views, driven offscreen: each view's heat strip holds what explain/saliency computes directly
// for the same input and output (gradient x input and integrated gradients), for the model's top prediction and
// for the output the user clicks; switching it off clears the strip and asks the engine nothing; a model without
// the task's head says so; a reply for an outdated input is dropped.
#include <QComboBox>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "classify_page.h"
#include "entities_page.h"
#include "explain/explain.h"
#include "fill_mask_page.h"
#include "item_models.h"
#include "main_window.h"
#include "model/random_model.h"
#include "page_support.h"
#include "qa_page.h"
#include "saliency_panel.h"
#include "session.h"
#include "test_support.h"
#include "token_strip.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 60000;  // ms
const QString kMasked = QStringLiteral("The [MASK] sat on the mat with a [MASK] hat.");

fs::path make_model(const QTemporaryDir& dir, const std::string& name, std::vector<std::string> labels, bool qa = false) {
  RandomModelSpec spec = test::small_bert_spec(7, 0.5f);  // peaked, varied outputs: the top choice is clear
  spec.labels = std::move(labels);
  spec.question_answering = qa;
  const fs::path folder = fs::path(dir.path().toStdString()) / name;
  write_random_model(folder, spec);
  return folder;
}

bool load(MainWindow& window, const fs::path& folder) {
  QSignalSpy loaded(window.engine(), &EngineClient::loaded);
  window.openModel(QString::fromStdString(folder.string()));
  return loaded.wait(kWait) || loaded.count() > 0;
}

// explain/explain.h called directly, on a session of its own, for the input the page explained.
struct Direct {
  ExplainTarget target;
  Saliency saliency;
  size_t tokens = 0;
};
Direct direct(const fs::path& model, const Encoding& encoding, ExplainTask task, int position, int index,
              SaliencyMethod method, int steps = 32) {
  Session session(model, {BackendKind::Cpu});
  Direct d;
  d.target = resolve_target(session.model(), session.tokenizer(), encoding, task, position, index);
  SaliencyOptions options;
  options.method = method;
  options.steps = steps;
  d.saliency = saliency(session.model(), encoding, d.target, options);
  d.tokens = encoding.size();
  return d;
}
Direct direct(const fs::path& model, const QString& text, const QString& pair, ExplainTask task, int position, int index,
              SaliencyMethod method, int steps = 32) {
  Session session(model, {BackendKind::Cpu});
  const std::string first = text.toStdString(), second = pair.toStdString();
  const Encoding encoding = pair.isEmpty() ? session.tokenizer().encode(first) : session.tokenizer().encode(first, second);
  return direct(model, encoding, task, position, index, method, steps);
}

// Whether the panel shows exactly `want`: the same output, every token's score, and the strip's chips coloured by
// the scores relative to the largest.
bool shows(SaliencyPanel* panel, const Direct& want, QString* why) {
  const Ptr<SaliencyReply>& got = panel->shown();
  if (!got) return *why = QStringLiteral("nothing shown"), false;
  if (got->target.position != want.target.position || got->target.index != want.target.index) {
    *why = QStringLiteral("explains (%1, %2), expected (%3, %4)").arg(got->target.position).arg(got->target.index)
               .arg(want.target.position).arg(want.target.index);
    return false;
  }
  const std::vector<float>& scores = got->saliency.scores;
  if (scores.size() != want.tokens || want.saliency.scores.size() != want.tokens ||
      panel->strip()->encoding().size() != want.tokens || panel->strip()->heat().size() != want.tokens) {
    *why = QStringLiteral("%1 scores, %2 chips, %3 heat values for %4 tokens").arg(scores.size())
               .arg(panel->strip()->encoding().size()).arg(panel->strip()->heat().size()).arg(want.tokens);
    return false;
  }
  const double error = test::normalised_error(scores, want.saliency.scores);
  if (error > 1e-4) return *why = QStringLiteral("scores differ by %1").arg(error), false;
  double largest = 0;
  for (float v : want.saliency.scores) largest = std::max(largest, double(std::abs(v)));
  if (largest <= 0) return *why = QStringLiteral("every score is 0"), false;
  for (size_t t = 0; t < want.tokens; ++t)
    if (std::abs(panel->strip()->heat()[t] - want.saliency.scores[t] / largest) > 1e-3)
      return *why = QStringLiteral("token %1: heat %2, score %3 of %4").arg(t).arg(panel->strip()->heat()[t])
                        .arg(want.saliency.scores[t]).arg(largest), false;
  if (panel->strip()->isHidden()) return *why = QStringLiteral("the strip is hidden"), false;
  return true;
}

bool settled(TaskPage* page) { return !page->waiting() && !page->saliency()->waiting(); }
}  // namespace

class TestGuiSaliency : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path mlm_, classifier_, qa_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    mlm_ = make_model(dir_, "mlm", {});
    classifier_ = make_model(dir_, "classifier", {"negative", "neutral", "positive"});
    qa_ = make_model(dir_, "qa", {}, true);
  }

  void fillMaskStripMatchesTheEngine() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    window.resize(1280, 800);
    window.show();
    window.tabs()->setCurrentWidget(window.fillMaskPage());
    FillMaskPage* page = window.fillMaskPage();
    SaliencyPanel* panel = page->saliency();
    QVERIFY(panel);
    QCOMPARE(panel->method(), SaliencyPanel::Off);  // off until asked: no extra computation
    QCOMPARE(panel->steps(), 32);                    // as the CLI
    QCOMPARE(panel->methodChoice()->count(), 3);

    // Off: the predictions come, the engine is asked for no saliency.
    QSignalSpy explained(window.engine(), &EngineClient::explained);
    page->setText(kMasked);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && page->predictions()->rowCount() > 0, kWait);
    QTest::qWait(200);
    QCOMPARE(explained.count(), 0);
    QVERIFY(!panel->shown() && !panel->strip()->isVisible());

    // Gradient x input: the first mask's top word, as resolve_target picks it.
    panel->setMethod(SaliencyPanel::GradientInput);
    QVERIFY(!panel->stepsChoice()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown(), kWait);
    QString why;
    const Direct top = direct(mlm_, kMasked, {}, ExplainTask::FillMask, -1, -1, SaliencyMethod::GradientInput);
    QVERIFY2(shows(panel, top, &why), qPrintable(why));
    QVERIFY2(panel->summary().contains(QStringLiteral("token %1").arg(top.target.position)), qPrintable(panel->summary()));

    // A clicked candidate: the second mask's third word. With saliency on, a click explains it and leaves the text.
    const int row = page->predictions()->rowCount() / 2 + 2;  // rows: each mask's top k in turn
    const QVariantList payload = page->predictions()->index(row, 0).data(Qt::UserRole).toList();
    QCOMPARE(payload.size(), 2);
    QCOMPARE(payload[0].toInt(), 1);
    auto* table = page->findChild<QTableView*>();
    const QRect cell = table->visualRect(table->model()->index(row, 1));
    QVERIFY(cell.isValid());
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QCOMPARE(page->text(), kMasked);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && panel->shown()->target.index != top.target.index, kWait);
    Session session(mlm_, {BackendKind::Cpu});
    const Encoding encoding = session.tokenizer().encode(kMasked.toStdString());
    const FillMaskResult predicted = fill_mask(session.model(), session.tokenizer(), kMasked.toStdString(), 5);
    const int position = predicted.mask_positions[1], word = predicted.predictions[1][size_t(payload[1].toInt())].token;
    const Direct clicked = direct(mlm_, encoding, ExplainTask::FillMask, position, word, SaliencyMethod::GradientInput);
    QVERIFY2(shows(panel, clicked, &why), qPrintable(why));

    // Integrated gradients with 8 steps, for the same output; the completeness error is shown.
    panel->setSteps(8);
    panel->setMethod(SaliencyPanel::IntegratedGradients);
    QVERIFY(panel->stepsChoice()->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && panel->shown()->method == SaliencyMethod::IntegratedGradients, kWait);
    const Direct ig = direct(mlm_, encoding, ExplainTask::FillMask, position, word, SaliencyMethod::IntegratedGradients, 8);
    QVERIFY2(shows(panel, ig, &why), qPrintable(why));
    QCOMPARE(panel->shown()->saliency.steps, 8);
    QVERIFY(std::abs(panel->shown()->saliency.completeness_error - ig.saliency.completeness_error) < 1e-4);
    QVERIFY2(panel->summary().contains(QStringLiteral("Completeness error")), qPrintable(panel->summary()));
    QVERIFY(std::any_of(ig.saliency.scores.begin(), ig.saliency.scores.end(), [](float v) { return v < 0; }));
    QVERIFY2(std::any_of(panel->strip()->heat().begin(), panel->strip()->heat().end(), [](float v) { return v < 0; }),
             "integrated gradients are signed: some chips are blue");

    // Off clears the strip, and a new text asks nothing.
    panel->setMethod(SaliencyPanel::Off);
    QVERIFY(!panel->shown() && !panel->waiting());
    QVERIFY(panel->strip()->encoding().size() == 0 && !panel->strip()->isVisible());
    explained.clear();
    page->setText(QStringLiteral("A [MASK] day."));
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && page->predictions()->rowCount() > 0, kWait);
    QTest::qWait(200);
    QCOMPARE(explained.count(), 0);
    // Off, a click puts the word into the sentence as before.
    const QRect first = table->visualRect(table->model()->index(0, 1));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, first.center());
    QVERIFY(!page->text().contains(QStringLiteral("[MASK]")));
  }

  void classificationStripMatchesTheEngine() {
    MainWindow window;
    QVERIFY(load(window, classifier_));
    ClassifyPage* page = window.classifyPage();
    SaliencyPanel* panel = page->saliency();
    panel->setMethod(SaliencyPanel::GradientInput);
    const QString text = QStringLiteral("What a wonderful, sunny afternoon.");
    const QString pair = QStringLiteral("We walked to the river.");
    page->setText(text, pair);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown(), kWait);
    QString why;
    const Direct top = direct(classifier_, text, pair, ExplainTask::Classify, -1, -1, SaliencyMethod::GradientInput);
    QVERIFY2(shows(panel, top, &why), qPrintable(why));
    // The top label, as the table's highest probability.
    int best = 0;
    for (int r = 1; r < page->labels()->rowCount(); ++r)
      if (page->labels()->index(r, 1).data(Qt::EditRole).toDouble() > page->labels()->index(best, 1).data(Qt::EditRole).toDouble()) best = r;
    QCOMPARE(top.target.index, best);
    QVERIFY(panel->summary().contains(page->labels()->index(best, 0).data().toString()));

    // A clicked label.
    const int other = (best + 1) % page->labels()->rowCount();
    page->explainLabel(other);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && panel->shown()->target.index == other, kWait);
    QVERIFY2(shows(panel, direct(classifier_, text, pair, ExplainTask::Classify, -1, other, SaliencyMethod::GradientInput), &why),
             qPrintable(why));

    // Integrated gradients at the default 32 steps.
    panel->setMethod(SaliencyPanel::IntegratedGradients);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && panel->shown()->method == SaliencyMethod::IntegratedGradients, kWait);
    QVERIFY2(shows(panel, direct(classifier_, text, pair, ExplainTask::Classify, -1, other, SaliencyMethod::IntegratedGradients), &why),
             qPrintable(why));

    // A new text goes back to the top label; the strip follows it.
    page->setText(QStringLiteral("Terrible."));
    const Direct terrible = direct(classifier_, QStringLiteral("Terrible."), {}, ExplainTask::Classify, -1, -1, SaliencyMethod::IntegratedGradients);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && panel->shown()->saliency.scores.size() == terrible.tokens, kWait);
    QVERIFY2(shows(panel, terrible, &why), qPrintable(why));

    // Off clears it.
    panel->setMethod(SaliencyPanel::Off);
    QVERIFY(!panel->shown() && panel->strip()->encoding().size() == 0);
  }

  // Typing on while a slow integrated-gradients request runs: only the latest text's strip shows.
  void outdatedRepliesAreDropped() {
    MainWindow window;
    QVERIFY(load(window, classifier_));
    ClassifyPage* page = window.classifyPage();
    SaliencyPanel* panel = page->saliency();
    panel->setSteps(200);
    panel->setMethod(SaliencyPanel::IntegratedGradients);
    QSignalSpy explained(window.engine(), &EngineClient::explained);
    page->setText(QStringLiteral("The first sentence, which takes a while to explain."));
    page->setText(QStringLiteral("The second one."));
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown(), kWait);
    QTest::qWait(200);
    QCOMPARE(panel->request().text, QStringLiteral("The second one."));
    QString why;
    QVERIFY2(shows(panel, direct(classifier_, QStringLiteral("The second one."), {}, ExplainTask::Classify, -1, -1,
                                 SaliencyMethod::IntegratedGradients, 200), &why), qPrintable(why));
  }

  // A model without the task's head says so, and nothing is shown.
  void aModelWithoutTheHeadSaysSo() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    ClassifyPage* classify = window.classifyPage();
    classify->setText(QStringLiteral("A sentence."));
    classify->saliency()->setMethod(SaliencyPanel::GradientInput);
    QVERIFY2(!classify->message()->isHidden() && classify->message()->text().contains(QStringLiteral("no sequence-classification head")),
             qPrintable(classify->message()->text()));
    QVERIFY(classify->saliency()->summary().contains(QStringLiteral("no sequence-classification head")));
    QTest::qWait(300);
    QVERIFY(!classify->saliency()->shown() && !classify->saliency()->waiting());

    QVERIFY(load(window, classifier_));
    FillMaskPage* fill = window.fillMaskPage();
    fill->saliency()->setMethod(SaliencyPanel::IntegratedGradients);
    QVERIFY2(fill->message()->text().contains(QStringLiteral("no masked-language-model head")), qPrintable(fill->message()->text()));
    QVERIFY(!fill->saliency()->shown() && !fill->saliency()->waiting());
    QaPage* qa = window.qaPage();
    qa->saliency()->setMethod(SaliencyPanel::GradientInput);
    QVERIFY2(qa->message()->text().contains(QStringLiteral("no question-answering head")), qPrintable(qa->message()->text()));
    EntitiesPage* entities = window.entitiesPage();
    entities->saliency()->setMethod(SaliencyPanel::GradientInput);
    QVERIFY2(entities->message()->text().contains(QStringLiteral("no token-classification head")), qPrintable(entities->message()->text()));

    // A text without a mask: the page's own error stays on its message line; the saliency's echo of the same
    // problem ("Saliency: ...") does not replace it, and no strip shows.
    QVERIFY(load(window, mlm_));
    fill->setText(QStringLiteral("No mask here."));
    QTRY_VERIFY_WITH_TIMEOUT(settled(fill) && fill->message()->isError() && !fill->saliency()->waiting(), kWait);
    QTest::qWait(200);  // the saliency reply, if any, has come
    QVERIFY2(!fill->message()->text().startsWith(QStringLiteral("Saliency:")), qPrintable(fill->message()->text()));
    QVERIFY2(fill->message()->text().contains(QStringLiteral("[MASK]")), qPrintable(fill->message()->text()));
    QVERIFY(!fill->saliency()->shown());
  }

  // The switch fits small screens: every task view, with integrated gradients' steps showing, stays within the
  // 760 px the other views keep to.
  void theSwitchFitsSmallScreens() {
    MainWindow window;
    QVERIFY(load(window, qa_));
    for (TaskPage* page : std::initializer_list<TaskPage*>{window.fillMaskPage(), window.classifyPage(), window.qaPage(), window.entitiesPage()}) {
      page->saliency()->setMethod(SaliencyPanel::IntegratedGradients);
      const int width = page->minimumSizeHint().width();
      QVERIFY2(width <= 760, qPrintable(QStringLiteral("%1: %2 px").arg(page->metaObject()->className()).arg(width)));
    }
  }

  // QA: the selected answer's start, then its end, in the window the answer is in.
  void questionAnsweringExplainsTheAnswer() {
    MainWindow window;
    QVERIFY(load(window, qa_));
    QaPage* page = window.qaPage();
    SaliencyPanel* panel = page->saliency();
    panel->setMethod(SaliencyPanel::GradientInput);
    const QString question = QStringLiteral("Where did the cat sit?"), context = QStringLiteral("The cat sat on the mat in the kitchen.");
    page->setInput(question, context);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && page->answers()->rowCount() > 0, kWait);
    Session session(qa_, {BackendKind::Cpu});
    QaOptions options;
    options.top_k = 5;
    const QaResult result = answer_question(session.model(), session.tokenizer(), question.toStdString(), context.toStdString(), options);
    QString why;
    const QaAnswer& best = result.answers.at(0);
    const Encoding& window0 = result.windows.at(size_t(best.window)).encoding;
    QVERIFY2(shows(panel, direct(qa_, window0, ExplainTask::QuestionAnswering, best.start_token, 0, SaliencyMethod::GradientInput), &why),
             qPrintable(why));
    page->answerSide()->setCurrentIndex(1);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && panel->shown()->target.index == 1, kWait);
    QVERIFY2(shows(panel, direct(qa_, window0, ExplainTask::QuestionAnswering, best.end_token, 1, SaliencyMethod::GradientInput), &why),
             qPrintable(why));
  }

  // NER: the first entity by default, then a clicked token and label.
  void entitiesExplainTheClickedToken() {
    RandomModelSpec spec = test::small_bert_spec(11, 0.5f);
    spec.labels = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
    const fs::path folder = fs::path(dir_.path().toStdString()) / "ner";
    write_random_model(folder, spec);
    nlohmann::json config;
    std::ifstream(folder / "config.json") >> config;
    config["architectures"] = {"BertForTokenClassification"};
    std::ofstream(folder / "config.json") << config.dump(2) << "\n";

    MainWindow window;
    QVERIFY(load(window, folder));
    EntitiesPage* page = window.entitiesPage();
    SaliencyPanel* panel = page->saliency();
    panel->setMethod(SaliencyPanel::GradientInput);
    const QString text = QStringLiteral("Ada Lovelace met Charles Babbage in London.");
    page->setText(text);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && page->shown(), kWait);
    QString why;
    QVERIFY2(shows(panel, direct(folder, text, {}, ExplainTask::TokenClassification, -1, -1, SaliencyMethod::GradientInput), &why),
             qPrintable(why));
    // Token 3 of the text (encoding position 4, after [CLS]) with label 2 (I-PER).
    page->explainToken(3, 2);
    QTRY_VERIFY_WITH_TIMEOUT(settled(page) && panel->shown() && panel->shown()->target.position == 4 && panel->shown()->target.index == 2, kWait);
    QVERIFY2(shows(panel, direct(folder, text, {}, ExplainTask::TokenClassification, 4, 2, SaliencyMethod::GradientInput), &why),
             qPrintable(why));
  }
};

QTEST_MAIN(TestGuiSaliency)
#include "test_gui_saliency.moc"
