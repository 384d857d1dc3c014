// Head ablation, live (issue 17), driven offscreen: clicking a head in the Attention view's model grid switches it
// off for every view; fill-mask then shows the probabilities of the model with that head off (each equal to the
// engine's score with that head_mask, computed here) and the change against the full model; "Reset" brings every
// head back. Rank heads fills a grid whose values are the engine's ranking, and rollout and flow are
// the engine's, as other sources of the maps.
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QThread>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "attention_page.h"
#include "classify_page.h"
#include "entities_page.h"
#include "qa_page.h"
#include "explain/attention_flow.h"
#include "explain/explain.h"
#include "explain/head_gradients.h"
#include "fill_mask_page.h"
#include "head_ablation.h"
#include "head_ranking_view.h"
#include "item_models.h"
#include "main_window.h"
#include "neuron_view.h"
#include "page_support.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 30000;  // ms
const QString kMasked = QStringLiteral("the [MASK] sat on the mat .");
}  // namespace

class TestGuiAblation : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path model_;
  std::unique_ptr<MainWindow> window_;
  std::unique_ptr<Session> session_;  // the engine, asked directly

  AttentionPage* attention() { return window_->attentionPage(); }
  FillMaskPage* fillMask() { return window_->fillMaskPage(); }
  EngineClient* engine() { return window_->engine(); }
  bool settled() { return QTest::qWaitFor([&] { return !engine()->busy(); }, kWait); }

  // The fill-mask table settled for kMasked with `columns` columns.
  bool fillMaskShows(int columns) {
    return QTest::qWaitFor([&] {
      return !engine()->busy() && !fillMask()->waiting() && fillMask()->predictions()->rowCount() > 0 &&
             fillMask()->predictions()->columnCount() == columns;
    }, kWait);
  }

  // Every shown prediction's probability equals score_target with `mask`; the change column, when shown, equals
  // the change from the full model's score. Returns the largest |change| seen.
  double checkFillMask(const HeadMask& mask) {
    BertModel& model = session_->model();
    model.set_head_mask(mask);
    const FillMaskResult expected = fill_mask(model, session_->tokenizer(), kMasked.toStdString(), 5);
    model.set_head_mask({});
    const Encoding encoding = session_->tokenizer().encode(kMasked.toStdString());
    ResultTableModel* table = fillMask()->predictions();
    const auto& predictions = expected.predictions.at(0);
    if (table->rowCount() != int(predictions.size())) {
      qWarning() << "rows" << table->rowCount();
      return -1;
    }
    const HeadMask all_on = HeadMask::all_on(mask.layers, mask.heads);
    double largest = 0;
    for (int row = 0; row < table->rowCount(); ++row) {
      const MaskPrediction& p = predictions[size_t(row)];
      ExplainTarget target;
      target.task = ExplainTask::FillMask;
      target.position = expected.mask_positions[0];
      target.index = p.token;
      const double with_mask = score_target(model, encoding, target, &mask).probability;
      const double full = score_target(model, encoding, target, &all_on).probability;
      const double shown = table->data(table->index(row, 2), Qt::EditRole).toDouble();
      if (table->data(table->index(row, 1), Qt::DisplayRole).toString() != QString::fromStdString(p.token_str) ||
          std::abs(shown - with_mask) > 1e-6) {
        qWarning() << "row" << row << table->data(table->index(row, 1), Qt::DisplayRole).toString() << shown << with_mask;
        return -1;
      }
      if (table->columnCount() == 5) {
        const QString change = table->data(table->index(row, 4), Qt::DisplayRole).toString();
        if (!change.startsWith(probability_change(with_mask, full))) {
          qWarning() << "row" << row << change << probability_change(with_mask, full);
          return -1;
        }
      }
      largest = std::max(largest, std::abs(with_mask - full));
    }
    return largest;
  }

  // A tiny model with the given head, loaded in the window and in session_ (replacing the one before).
  bool loadTiny(const std::string& name, const std::function<void(RandomModelSpec&)>& head) {
    RandomModelSpec spec = test::tiny_model_spec(dir_);
    spec.layers = 2;
    spec.init_std = 0.5f;
    spec.seed = 7;
    head(spec);
    const fs::path folder = fs::path(dir_.path().toStdString()) / name;
    write_random_model(folder, spec);
    session_ = std::make_unique<Session>(folder, BackendRequest{BackendKind::Cpu});
    QSignalSpy loaded(engine(), &EngineClient::loaded);
    window_->openModel(QString::fromStdString(folder.string()));
    return (loaded.wait(kWait) || loaded.count() > 0) && settled();
  }

  // Runs `work` on session_'s model with only head (layer, head) switched off.
  template <typename F>
  auto withHeadOff(int layer, int head, F work) {
    HeadMask mask = HeadMask::all_on(2, 2);
    mask.at(layer, head) = 0.0f;
    session_->model().set_head_mask(mask);
    auto result = work();
    session_->model().set_head_mask({});
    return result;
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    RandomModelSpec spec = test::tiny_model_spec(dir_);
    spec.layers = 2;        // 2 x 2 heads
    spec.init_std = 0.5f;   // peaked attention and predictions: a head switched off changes them
    spec.seed = 5;
    model_ = fs::path(dir_.path().toStdString()) / "model";
    write_random_model(model_, spec);
    session_ = std::make_unique<Session>(model_, BackendRequest{BackendKind::Cpu});
    window_ = std::make_unique<MainWindow>();
    QSettings().setValue("backend/kind", "cpu");
    QVERIFY(window_->selectBackendChoice(BackendKind::Cpu, -1));
    QSignalSpy loaded(engine(), &EngineClient::loaded);
    window_->openModel(QString::fromStdString(model_.string()));
    QVERIFY(loaded.wait(kWait) || loaded.count() > 0);
    window_->resize(1280, 800);
    window_->show();
    window_->tabs()->setCurrentWidget(attention());  // the grids are clicked where they are shown
    fillMask()->setText(kMasked);
    attention()->setText(kMasked);
    QVERIFY(settled());
    QVERIFY(!attention()->data().empty());
  }

  void clickingAHeadSwitchesItOffForFillMask() {
    QVERIFY(fillMaskShows(4));
    QVERIFY(checkFillMask(HeadMask::all_on(2, 2)) >= 0);  // every head on: the plain model, no change column
    QVERIFY(fillMask()->ablationBanner()->isHidden());

    // A plain click selects a map; in switch-off mode it switches the head off.
    AttentionGrid* grid = attention()->grid();
    QTest::mouseClick(grid, Qt::LeftButton, {}, grid->cellCenter(1, 0));
    QCOMPARE(engine()->headsOff(), 0);
    // The switch is a labelled checkbox whose tooltip says what switching off means; no Reset while every head is on.
    QVERIFY(attention()->switchOffMode()->isVisible());
    QVERIFY(!attention()->switchOffMode()->text().isEmpty());
    QVERIFY(attention()->switchOffMode()->toolTip().contains(QStringLiteral("head_mask")));
    QVERIFY(attention()->switchOffMode()->toolTip().contains(QStringLiteral("multiplied by 0")));
    QVERIFY(attention()->restoreHeads()->isHidden());
    attention()->switchOffMode()->click();
    QVERIFY(attention()->switchOffMode()->isChecked());
    QTest::mouseClick(grid, Qt::LeftButton, {}, grid->cellCenter(1, 0));
    QCOMPARE(engine()->headsOff(), 1);
    QCOMPARE(engine()->headMask().at(1, 0), 0.0f);
    QCOMPARE(attention()->headsOffLabel()->text(), QStringLiteral("1 of 4 heads off"));
    QVERIFY(attention()->restoreHeads()->isEnabled());
    QVERIFY(attention()->restoreHeads()->isVisible());
    QCOMPARE(attention()->restoreHeads()->text(), QStringLiteral("Reset"));
    // The banner shows at once in every task view.
    QVERIFY(!fillMask()->ablationBanner()->isHidden());
    QVERIFY(fillMask()->ablationBanner()->text().contains(QStringLiteral("1 head switched off")));

    // Fill-mask answers with that head off, with the change against the full model next to each word.
    QVERIFY(fillMaskShows(5));
    QCOMPARE(fillMask()->predictions()->headerData(4, Qt::Horizontal, Qt::DisplayRole).toString(), change_column_title());
    HeadMask mask = HeadMask::all_on(2, 2);
    mask.at(1, 0) = 0.0f;
    const double changed = checkFillMask(mask);
    QVERIFY2(changed > 1e-6, "switching the head off should change the probabilities");
    // A changed top-1 is flagged exactly when the full model's best word differs.
    const FillMaskResult full = fill_mask(session_->model(), session_->tokenizer(), kMasked.toStdString(), 1);
    session_->model().set_head_mask(mask);
    const FillMaskResult off = fill_mask(session_->model(), session_->tokenizer(), kMasked.toStdString(), 1);
    session_->model().set_head_mask({});
    const bool top_changed = full.predictions[0][0].token != off.predictions[0][0].token;
    const QString first = fillMask()->predictions()->data(fillMask()->predictions()->index(0, 4), Qt::DisplayRole).toString();
    QCOMPARE(first.contains(QStringLiteral("top-1 changed")), top_changed);
    QCOMPARE(fillMask()->ablationBanner()->text().contains(QStringLiteral("Changed:")), top_changed);

    // A right-click toggles at any time: a second head off, then on again.
    attention()->switchOffMode()->click();
    QVERIFY(!attention()->switchOffMode()->isChecked());
    QTest::mouseClick(grid, Qt::RightButton, {}, grid->cellCenter(0, 1));
    QCOMPARE(engine()->headsOff(), 2);
    QTest::mouseClick(grid, Qt::RightButton, {}, grid->cellCenter(0, 1));
    QCOMPARE(engine()->headsOff(), 1);
    // The attention maps follow the mask: the switched-off head's weights are 0.
    QVERIFY(settled());
    const std::vector<float> off_map = attention()->data().map(1, 0);
    QVERIFY(std::all_of(off_map.begin(), off_map.end(), [](float w) { return w == 0.0f; }));
  }

  void restoreSwitchesEveryHeadBackOn() {
    QCOMPARE(engine()->headsOff(), 1);
    attention()->restoreHeads()->click();
    QCOMPARE(engine()->headsOff(), 0);
    QVERIFY(engine()->headMask().empty());
    QVERIFY(!attention()->restoreHeads()->isEnabled());
    QVERIFY(attention()->restoreHeads()->isHidden());
    QCOMPARE(attention()->headsOffLabel()->text(), QStringLiteral("every head on"));
    QVERIFY(fillMask()->ablationBanner()->isHidden());
    QVERIFY(fillMaskShows(4));
    QVERIFY(checkFillMask(HeadMask::all_on(2, 2)) >= 0);
  }

  void rankHeadsGridIsTheEnginesRanking() {
    // With one head already off, as a user would rank after switching some off.
    engine()->toggleHead(0, 0);
    QVERIFY(settled());
    QCOMPARE(attention()->rankTask()->currentData().toInt(), int(ExplainTask::FillMask));
    QSignalSpy ranked(engine(), &EngineClient::headsRanked);
    attention()->rankButton()->click();
    QVERIFY(ranked.wait(kWait) || ranked.count() > 0);
    HeadRankingGrid* grid = attention()->rankingGrid();
    QVERIFY(grid->ranking() != nullptr);

    BertModel& model = session_->model();
    HeadMask mask = HeadMask::all_on(2, 2);
    mask.at(0, 0) = 0.0f;
    model.set_head_mask(mask);
    const Encoding encoding = session_->tokenizer().encode(kMasked.toStdString());
    const ExplainTarget target = resolve_target(model, session_->tokenizer(), encoding, ExplainTask::FillMask);
    const HeadRanking expected = rank_heads(model, encoding, target);
    model.set_head_mask({});
    QCOMPARE(grid->ranking()->target.index, target.index);
    QCOMPARE(grid->ranking()->ranking.ranking, expected.ranking);
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 2; ++h) {
        const double want = expected.probability_change[size_t(l) * 2 + h];
        QVERIFY2(std::abs(grid->change(l, h) + want) < 1e-9, qPrintable(QStringLiteral("head %1:%2").arg(l).arg(h)));
        QCOMPARE(grid->cellText(l, h), l == 0 && h == 0 ? QStringLiteral("off") : QString::asprintf("%+.1f", -100.0 * want));
        // Signed as Fill mask's "vs all heads" column: the probability with the head off minus with it on.
        if (l != 0 || h != 0)
          QCOMPARE(grid->cellText(l, h) + QStringLiteral(" pts"),
                   probability_change(expected.full.probability - want, expected.full.probability));
      }
    // The gradient importance beside it, for the same input and target and the same head mask.
    model.set_head_mask(mask);
    const HeadGradients gradients = head_gradients(model, encoding, target);
    model.set_head_mask({});
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 2; ++h) {
        const size_t i = size_t(l) * 2 + h;
        QVERIFY(std::abs(grid->ranking()->gradients.gradient.at(i) - gradients.gradient[i]) < 1e-9);
        QCOMPARE(grid->gradientText(l, h), l == 0 && h == 0 ? QString() : QString::fromUtf8("\u2207 ") + QString::asprintf("%+.2f", gradients.gradient[i]));
      }
    // A click on a ranked head switches it off for every view.
    QVERIFY(!grid->crossedOut(1, 1));
    QTest::mouseClick(grid, Qt::LeftButton, {}, grid->cellCenter(1, 1));
    QCOMPARE(engine()->headsOff(), 2);
    // ...and the ranking crosses it out, its numbers kept (walkthrough finding); the head off when ranked is "off".
    QVERIFY(grid->crossedOut(1, 1));
    QVERIFY(!grid->crossedOut(0, 0));
    QCOMPARE(grid->cellText(0, 0), QStringLiteral("off"));
    engine()->setHeadMask({});
    QVERIFY(settled());
  }

  void rolloutAndFlowAreTheEngines() {
    attention()->setText(kMasked);
    QVERIFY(settled());
    const AttentionResult weights = bertscope::attention(session_->model(), session_->tokenizer(), kMasked.toStdString());
    const int T = weights.tokens;
    const auto rollout = attention_rollout(weights.maps, weights.heads, T);
    attention()->setSource(AttentionPage::Source::Rollout);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && attention()->data().heads() == 1; }, kWait));
    for (int l = 0; l < weights.layers; ++l) QVERIFY(test::normalised_error(attention()->data().map(l, 0), rollout[size_t(l)]) < 1e-5);
    // The model view's one map a layer is titled as a rollout, not "head 0", and has no mean beside it.
    AttentionGrid* grid = attention()->grid();
    QCOMPARE(grid->columns(), 1);
    QCOMPARE(grid->columnTitle(0), QStringLiteral("rollout"));
    QSignalSpy picked(grid, &AttentionGrid::selected);
    QTest::mouseClick(grid, Qt::LeftButton, {}, grid->cellCenter(1, 0));
    QCOMPARE(picked.count(), 1);
    QCOMPARE(picked.at(0).at(0).toInt(), 1);
    attention()->setSource(AttentionPage::Source::Flow);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && attention()->data().heads() == 1; }, kWait));
    for (int l = 0; l < weights.layers; ++l)
      QVERIFY(test::normalised_error(attention()->data().map(l, 0), attention_flow(weights.maps, weights.heads, T, l)) < 1e-5);
    QCOMPARE(grid->columns(), 1);
    QCOMPARE(grid->columnTitle(0), QStringLiteral("flow"));
    attention()->setSource(AttentionPage::Source::Weights);
    QCOMPARE(grid->columns(), 3);  // head 0, head 1, mean
    QCOMPARE(grid->columnTitle(0), QStringLiteral("head 0"));
    QCOMPARE(grid->columnTitle(2), QStringLiteral("mean"));
    attention()->setSource(AttentionPage::Source::Flow);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && attention()->data().heads() == 1; }, kWait));
    // Longer than flow takes: said, and rollout still works.
    QString longer;
    for (int i = 0; i < 70; ++i) longer += QStringLiteral("cat ");
    attention()->setText(longer);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && attention()->message()->isError(); }, kWait));
    QVERIFY(attention()->message()->text().contains(QStringLiteral("up to 64 tokens")));
    attention()->setSource(AttentionPage::Source::Rollout);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && attention()->data().heads() == 1 && attention()->data().size() > 64; }, kWait));
    attention()->setSource(AttentionPage::Source::Weights);
    QCOMPARE(attention()->data().heads(), 2);
  }

  // The neuron view's softmax is the engine's attention row; its scores are the products' sums over sqrt(d).
  void neuronViewExplainsTheWeights() {
    attention()->setSource(AttentionPage::Source::Weights);
    attention()->setText(kMasked);
    QVERIFY(settled());
    attention()->select(1, 1);
    attention()->showNeuronView();
    NeuronView* view = attention()->neuronView();
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && view->shown() && view->shown()->head == 1 && view->shown()->layer == 1; }, kWait));
    view->setQuery(3);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && view->shown()->query == 3; }, kWait));
    const NeuronVectors& v = *view->shown();
    const AttentionResult weights = bertscope::attention(session_->model(), session_->tokenizer(), kMasked.toStdString());
    QCOMPARE(v.tokens, weights.tokens);
    const float* row = weights.map(1, 1) + size_t(3) * weights.tokens;  // query 3's weights
    for (int k = 0; k < v.tokens; ++k) {
      QVERIFY2(std::abs(v.weights[size_t(k)] - row[k]) < 1e-5, qPrintable(QStringLiteral("key %1: %2 vs %3").arg(k).arg(v.weights[size_t(k)]).arg(row[k])));
      double sum = 0;
      for (int d = 0; d < v.head_dim; ++d) sum += v.products[size_t(k) * v.head_dim + d];
      QVERIFY(std::abs(v.scores[size_t(k)] - sum / std::sqrt(double(v.head_dim))) < 1e-9);
    }
    QCOMPARE(view->queryChoice()->count(), v.tokens);
    QCOMPARE(view->queryChoice()->currentData().toInt(), 3);
    // Narrower than the bars' full width, every column still shows: the bars narrow (walkthrough finding: the
    // softmax column was cut off at 1280 wide).
    {
      NeuronView narrow(engine());
      narrow.setInput(kMasked, QString(), 1, 1);
      narrow.resize(560, 400);
      narrow.show();
      QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && narrow.shown(); }, kWait));
      const QScrollArea* area = narrow.findChild<QScrollArea*>();
      QTRY_VERIFY(area->widget()->width() > 300);
      QVERIFY2(area->widget()->width() <= area->viewport()->width(),
               qPrintable(QStringLiteral("%1 > %2").arg(area->widget()->width()).arg(area->viewport()->width())));
    }
    // The mean over heads has no single query and key: nothing shown.
    attention()->select(1, -1);
    QVERIFY(QTest::qWaitFor([&] { return view->shown() == nullptr; }, kWait));
  }

  // Every task view answers with the heads off, its change column against the full model.
  void classifyAnswersWithTheHeadOff() {
    QVERIFY(loadTiny("classifier", [](RandomModelSpec& spec) { spec.labels = {"neg", "neutral", "pos"}; }));
    const QString text = QStringLiteral("the cat sat on the mat .");
    window_->classifyPage()->setText(text);
    QVERIFY(settled());
    ResultTableModel* labels = window_->classifyPage()->labels();
    QCOMPARE(labels->columnCount(), 2);
    engine()->toggleHead(1, 1);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && labels->columnCount() == 3 && labels->rowCount() == 3; }, kWait));
    QVERIFY(window_->classifyPage()->ablationBanner()->text().contains(QStringLiteral("1 head switched off")));
    const ClassifyResult full = classify(session_->model(), session_->tokenizer(), text.toStdString());
    const ClassifyResult off = withHeadOff(1, 1, [&] { return classify(session_->model(), session_->tokenizer(), text.toStdString()); });
    double changed = 0;
    for (int i = 0; i < 3; ++i) {
      QVERIFY(std::abs(labels->data(labels->index(i, 1), Qt::EditRole).toDouble() - off.scores[size_t(i)].score) < 1e-6);
      QVERIFY(labels->data(labels->index(i, 2), Qt::DisplayRole).toString()
                  .startsWith(probability_change(off.scores[size_t(i)].score, full.scores[size_t(i)].score)));
      changed = std::max(changed, std::abs(off.scores[size_t(i)].score - full.scores[size_t(i)].score));
    }
    QVERIFY(changed > 1e-6);
    engine()->setHeadMask({});
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && labels->columnCount() == 2; }, kWait));
    QVERIFY(window_->classifyPage()->ablationBanner()->isHidden());
  }

  void questionAnsweringAnswersWithTheHeadOff() {
    QVERIFY(loadTiny("qa", [](RandomModelSpec& spec) { spec.question_answering = true; }));
    const QString question = QStringLiteral("where did the cat sit ?"), context = QStringLiteral("the cat sat on the mat by the door .");
    window_->qaPage()->setInput(question, context);
    QVERIFY(settled());
    engine()->toggleHead(0, 1);
    ResultTableModel* answers = window_->qaPage()->answers();
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && answers->columnCount() == 6 && answers->rowCount() > 0; }, kWait));
    QaOptions options;
    options.top_k = 5;
    const QaResult full = answer_question(session_->model(), session_->tokenizer(), question.toStdString(), context.toStdString(), options);
    const QaResult off = withHeadOff(0, 1, [&] {
      return answer_question(session_->model(), session_->tokenizer(), question.toStdString(), context.toStdString(), options);
    });
    QCOMPARE(answers->rowCount(), int(off.answers.size()));
    for (int i = 0; i < answers->rowCount(); ++i) {
      const QaAnswer& a = off.answers[size_t(i)];
      QVERIFY(std::abs(answers->data(answers->index(i, 1), Qt::EditRole).toDouble() - a.score) < 1e-6);
      const auto same = std::find_if(full.answers.begin(), full.answers.end(), [&](const QaAnswer& f) { return f.start == a.start && f.end == a.end; });
      const QString change = answers->data(answers->index(i, 5), Qt::DisplayRole).toString();
      QVERIFY2(same != full.answers.end() ? change.startsWith(probability_change(a.score, same->score)) : change.startsWith(QStringLiteral("new")),
               qPrintable(change));
    }
    const bool top_changed = off.answers[0].start != full.answers[0].start || off.answers[0].end != full.answers[0].end;
    QCOMPARE(answers->data(answers->index(0, 5), Qt::DisplayRole).toString().contains(QStringLiteral("top-1 changed")), top_changed);
    engine()->setHeadMask({});
    QVERIFY(settled());
  }

  void entitiesAnswerWithTheHeadOff() {
    QVERIFY(loadTiny("ner", [](RandomModelSpec& spec) {
      spec.labels = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
      spec.token_classification = true;
    }));
    const QString text = QStringLiteral("the cat sat on the mat by the door in the house .");
    window_->entitiesPage()->setText(text);
    QVERIFY(settled());
    engine()->toggleHead(1, 0);
    ResultTableModel* entities = window_->entitiesPage()->entities();
    EntityOptions options;
    options.aggregation = window_->entitiesPage()->aggregation();
    const EntityResult full = recognize_entities(session_->model(), session_->tokenizer(), text.toStdString(), options);
    const EntityResult off = withHeadOff(1, 0, [&] {
      return recognize_entities(session_->model(), session_->tokenizer(), text.toStdString(), options);
    });
    QVERIFY(!off.entities.empty());  // a random model tags some tokens: the comparison has rows to check
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && entities->columnCount() == 6 && entities->rowCount() > 0; }, kWait));
    QCOMPARE(entities->rowCount(), int(off.entities.size()));
    for (int i = 0; i < entities->rowCount(); ++i) {
      const Entity& e = off.entities[size_t(i)];
      QVERIFY(std::abs(entities->data(entities->index(i, 2), Qt::EditRole).toDouble() - e.score) < 1e-6);
      const auto same = std::find_if(full.entities.begin(), full.entities.end(),
                                     [&](const Entity& f) { return f.start == e.start && f.end == e.end && f.label == e.label; });
      const QString change = entities->data(entities->index(i, 5), Qt::DisplayRole).toString();
      QVERIFY2(same != full.entities.end() ? change == probability_change(e.score, same->score) : change.startsWith(QStringLiteral("new")),
               qPrintable(change));
    }
    QVERIFY(!window_->entitiesPage()->ablationBanner()->isHidden());
    engine()->setHeadMask({});
    QVERIFY(settled());
  }

  // The bar: ranking the default model's heads for a 30-token input, through the window, in under 5 s on
  // the CPU. A newly loaded model also starts with every head on.
  void rankHeadsOnTheDefaultModelIsFast() {
    engine()->toggleHead(0, 0);
    QCOMPARE(engine()->headsOff(), 1);
    QSignalSpy loaded(engine(), &EngineClient::loaded);
    window_->openModel(QString::fromStdString((fs::path(BERTSCOPE_TEST_RESOURCES) / "default-model").string()));
    QVERIFY(loaded.wait(kWait) || loaded.count() > 0);
    QCOMPARE(engine()->headsOff(), 0);
    QVERIFY(attention()->rankingGrid()->ranking() == nullptr);
    const QString text = QStringLiteral("the cat sat on the [MASK] near the door because it was tired after a day of "
                                        "chasing birds in the garden behind our house");
    attention()->setText(text);
    QVERIFY(settled());
    QCOMPARE(attention()->data().size(), 30);  // [CLS] + 28 + [SEP]
    QSignalSpy ranked(engine(), &EngineClient::headsRanked);
    QElapsedTimer clock;
    clock.start();
    attention()->rankButton()->click();
    QVERIFY(ranked.wait(kWait) || ranked.count() > 0);
    const qint64 ms = clock.elapsed();
    const HeadRanking& r = attention()->rankingGrid()->ranking()->ranking;
    qInfo("rank heads, default model (%d heads), 30 tokens, CPU, through the window: %lld ms", r.layers * r.heads, ms);
    double load = 0;
    getloadavg(&load, 1);
    if (load > QThread::idealThreadCount() - 1) QSKIP(qPrintable(QStringLiteral("load average %1 on %2 cores: time not checked").arg(load).arg(QThread::idealThreadCount())));
    QVERIFY2(ms < 5000, "ranking the default model's heads took 5 s or more");
  }

  // A ranking in progress shows how far it got, and Cancel stops it within about one batched pass (a layer's heads):
  // no reply, the grid as it was, "Cancelled.". A deep random model and a long text make each pass take a while.
  void cancellingARankingStopsItWithinAPass() {
    RandomModelSpec spec = test::tiny_model_spec(dir_);
    spec.layers = 24;
    spec.heads = 4;
    spec.hidden = 64;
    spec.intermediate = 256;
    spec.seed = 11;
    const fs::path folder = fs::path(dir_.path().toStdString()) / "deep";
    write_random_model(folder, spec);
    QSignalSpy loaded(engine(), &EngineClient::loaded);
    window_->openModel(QString::fromStdString(folder.string()));
    QVERIFY(loaded.wait(kWait) || loaded.count() > 0);
    QVERIFY(settled());
    // A ranking to keep on screen: the short text's.
    QSignalSpy ranked(engine(), &EngineClient::headsRanked);
    attention()->setText(kMasked);
    QVERIFY(settled());
    attention()->rankButton()->click();
    QVERIFY(ranked.wait(kWait) || ranked.count() > 0);
    const Ptr<RankHeadsReply> before = attention()->rankingGrid()->ranking();
    QVERIFY(before != nullptr);

    QString text = kMasked;
    for (int i = 0; i < 30; ++i) text += QStringLiteral(" the cat sat on the mat .");
    attention()->setText(text);
    QTest::qWait(400);  // past the typing pause: its refresh is asked for now, not during the ranking
    QVERIFY(settled());
    QVERIFY(attention()->data().size() > 200);
    ranked.clear();
    QSignalSpy progress(engine(), &EngineClient::headsRankProgress);
    attention()->rankButton()->click();
    QVERIFY(attention()->cancelRankButton()->isVisible());
    QVERIFY2(progress.wait(2 * kWait) || progress.count() > 0, qPrintable(attention()->message()->text()));
    // The bar counts heads: a layer's 4 after the first pass, of all 96.
    QCOMPARE(attention()->rankProgress()->maximum(), 96);
    QCOMPARE(attention()->rankProgress()->value(), 4);
    QElapsedTimer clock;
    clock.start();
    attention()->cancelRankButton()->click();
    QCOMPARE(attention()->message()->text(), QStringLiteral("Cancelled."));
    QVERIFY(attention()->rankProgress()->isHidden());
    QVERIFY(attention()->cancelRankButton()->isHidden());
    QVERIFY(attention()->rankButton()->isEnabled());
    QVERIFY(settled());
    const qint64 ms = clock.elapsed();
    QCoreApplication::processEvents();  // any progress report still queued
    const int done = progress.last().at(1).toInt();
    qInfo("ranking cancelled after %d of 96 heads; the engine was idle %lld ms after Cancel", done, ms);
    // A pass or two after the one reported (the UI thread may be slow to see it on a loaded machine), far from all.
    QVERIFY2(done <= 6 * 4, qPrintable(QStringLiteral("%1 heads ablated: the cancel was not seen within a pass").arg(done)));
    QCOMPARE(ranked.count(), 0);
    QCOMPARE(attention()->rankingGrid()->ranking(), before);
    QCOMPARE(attention()->message()->text(), QStringLiteral("Cancelled."));
  }
};

QTEST_MAIN(TestGuiAblation)
#include "test_gui_ablation.moc"
