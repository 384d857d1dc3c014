// Two models side by side (issue 17), driven offscreen: File > Compare with another model opens model B next to
// model A. With one vocabulary, fill-mask, classify, entities and QA show B's probability for each of A's rows (equal
// to what the engine gives for model B directly), the change from A's, and a changed top-1 flagged; the banner in
// each view names both models. Attention shows B's map beside A's, or A − B on a diverging scale; the saliency strip,
// the head ranking and the neuron view show model B's numbers (as the engine gives them for B) beside or below A's.
// With another vocabulary, B's answer is shown on its own with a notice. Stopping compare brings the normal views
// back.
#include <QAction>
#include <QCheckBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "attention_legend.h"
#include "attention_page.h"
#include "attention_views.h"
#include "compare_menu.h"
#include "hub_download.h"
#include "classify_page.h"
#include "explain/explain.h"
#include "entities_page.h"
#include "fill_mask_page.h"
#include "head_ablation.h"
#include "head_ranking_view.h"
#include "neuron_view.h"
#include "saliency_panel.h"
#include "token_strip.h"
#include "item_models.h"
#include "main_window.h"
#include "model_compare.h"
#include "qa_page.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 30000;  // ms
const QString kMasked = QStringLiteral("the [MASK] sat on the mat .");
const QString kSentence = QStringLiteral("the film was good and the music was fine .");
const QString kTagged = QStringLiteral("the cat sat on the mat by the door in the house .");
const QString kQuestion = QStringLiteral("where did the cat sit ?");
const QString kContext = QStringLiteral("the cat sat on the mat by the door , and the dog slept in the garden .");
}  // namespace

class TestGuiCompare : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<MainWindow> window_;
  std::unique_ptr<Session> a_, b_;  // the engine, asked directly, for models A and B

  EngineClient* engine() { return window_->engine(); }
  bool settled() { return QTest::qWaitFor([&] { return !engine()->busy(); }, kWait); }

  fs::path folder(const std::string& name) { return fs::path(dir_.path().toStdString()) / name; }

  // Writes a tiny 2-layer model (seeded; `head` picks its head and vocabulary) unless it exists.
  fs::path tiny(const std::string& name, unsigned seed, const std::function<void(RandomModelSpec&)>& head = {}) {
    const fs::path out = folder(name);
    if (fs::exists(out)) return out;
    RandomModelSpec spec = test::tiny_model_spec(dir_);
    spec.layers = 2;
    spec.init_std = 0.5f;  // peaked predictions: two seeds disagree
    spec.seed = seed;
    if (head) head(spec);
    write_random_model(out, spec);
    return out;
  }

  // Opens `a` as model A (in the window and a_) and `b` as model B (in the window's compare mode and b_).
  bool openPair(const fs::path& a, const fs::path& b) {
    a_ = std::make_unique<Session>(a, BackendRequest{BackendKind::Cpu});
    b_ = std::make_unique<Session>(b, BackendRequest{BackendKind::Cpu});
    QSignalSpy loaded(engine(), &EngineClient::loaded);
    window_->openModel(QString::fromStdString(a.string()));
    if (!(loaded.wait(kWait) || loaded.count() > 0) || !settled()) return false;
    QSignalSpy compared(engine(), &EngineClient::compareChanged);
    engine()->compareWith(QString::fromStdString(b.string()));
    return QTest::qWaitFor([&] { return engine()->comparing() && compared.count() > 0; }, kWait) && settled();
  }

  // `page`'s table settled with `columns` columns and at least one row.
  bool tableShows(TaskPage* page, ResultTableModel* table, int columns) {
    return QTest::qWaitFor([&] {
      return !engine()->busy() && !page->waiting() && table->rowCount() > 0 && table->columnCount() == columns;
    }, kWait);
  }

  // Model B's probability of word `token` at the first mask of kMasked, from the engine directly.
  double probabilityB(std::int32_t token) {
    const Encoding encoding = b_->tokenizer().encode(kMasked.toStdString());
    ExplainTarget target;
    target.task = ExplainTask::FillMask;
    target.position = int(std::find_if(encoding.tokens.begin(), encoding.tokens.end(), [&](const Token& t) {
                        return t.id == b_->tokenizer().mask_id();
                      }) - encoding.tokens.begin());
    target.index = token;
    return score_target(b_->model(), encoding, target).probability;
  }

  static double number(ResultTableModel* table, int row, int column) {
    return table->data(table->index(row, column), Qt::EditRole).toDouble();
  }
  static QString text(ResultTableModel* table, int row, int column) {
    return table->data(table->index(row, column), Qt::DisplayRole).toString();
  }

  // Model B's columns (value at `column`, change after it) equal b minus a for each row; the row of A's top result
  // says "top-1 changed" exactly when `topChanged`.
  bool checkColumns(ResultTableModel* table, int column, const std::vector<double>& a, const std::vector<double>& b,
                    int topRow, bool topChanged) {
    if (table->rowCount() != int(a.size()) || table->headerData(column, Qt::Horizontal, Qt::DisplayRole).toString() != model_b_column_title())
      return false;
    for (int row = 0; row < table->rowCount(); ++row) {
      const double shown = number(table, row, column);
      const QString change = text(table, row, column + 1);
      if (std::abs(shown - b[size_t(row)]) > 1e-6 || !change.startsWith(probability_change(b[size_t(row)], a[size_t(row)])) ||
          change.contains(QStringLiteral("top-1 changed")) != (row == topRow && topChanged)) {
        qWarning() << "row" << row << shown << b[size_t(row)] << change;
        return false;
      }
    }
    return true;
  }

  // The table view of `page` that shows `model`.
  static QTableView* viewOf(QWidget* page, QAbstractItemModel* model) {
    for (QTableView* view : page->findChildren<QTableView*>())
      if (view->model() == model) return view;
    return nullptr;
  }

  // Model B's two columns (the last two) show whole in `view` without scrolling, and long texts are cut with "…"
  // rather than wrapped.
  static bool bColumnsFit(QTableView* view) {
    const int columns = view->model()->columnCount();
    for (int c = columns - 2; c < columns; ++c) {
      const int left = view->columnViewportPosition(c);
      if (left < 0 || left + view->columnWidth(c) > view->viewport()->width() + 1) {
        qWarning() << "column" << c << "at" << left << "width" << view->columnWidth(c) << "viewport" << view->viewport()->width();
        return false;
      }
    }
    return !view->wordWrap() && view->textElideMode() == Qt::ElideRight;
  }

  // The banner over `banner`'s view names both models' folders.
  bool namesBoth(CompareBanner* banner, const fs::path& a, const fs::path& b) {
    return banner->isVisible() && banner->text().contains(QString::fromStdString(a.filename().string())) &&
           banner->text().contains(QString::fromStdString(b.filename().string()));
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    window_ = std::make_unique<MainWindow>();
    QSettings().setValue("backend/kind", "cpu");
    QVERIFY(window_->selectBackendChoice(BackendKind::Cpu, -1));
    window_->resize(1280, 800);
    window_->show();
    window_->fillMaskPage()->setText(kMasked);
    window_->classifyPage()->setText(kSentence);
    window_->entitiesPage()->setText(kTagged);
    window_->qaPage()->setInput(kQuestion, kContext);
  }

  void fillMaskLinesUpModelB() {
    auto* actionCompare = window_->findChild<QAction*>(QStringLiteral("compareModel"));
    auto* actionStop = window_->findChild<QAction*>(QStringLiteral("stopCompare"));
    QVERIFY(actionCompare && actionStop);
    QVERIFY(!actionStop->isEnabled());
    const fs::path a = tiny("mlm_a", 5), b = tiny("mlm_b", 11);
    QVERIFY(openPair(a, b));
    QVERIFY(engine()->sameVocabulary());
    QVERIFY(actionStop->isEnabled());
    FillMaskPage* page = window_->fillMaskPage();
    window_->tabs()->setCurrentWidget(page);
    ResultTableModel* table = page->predictions();
    QVERIFY(tableShows(page, table, 6));  // Mask, Word, Probability, Sentence, Model B, B vs A
    QVERIFY(namesBoth(page->compareBanner(), a, b));

    // Each of A's words: B's probability for the same word id is the engine's for model B.
    const FillMaskResult fromA = fill_mask(a_->model(), a_->tokenizer(), kMasked.toStdString(), 5);
    const FillMaskResult fromB = fill_mask(b_->model(), b_->tokenizer(), kMasked.toStdString(), 1);  // B's top word
    std::vector<double> pa, pb;
    for (const MaskPrediction& p : fromA.predictions.at(0)) {
      pa.push_back(p.score);
      pb.push_back(probabilityB(p.token));
    }
    for (int row = 0; row < table->rowCount(); ++row) QCOMPARE(text(table, row, 1), QString::fromStdString(fromA.predictions[0][size_t(row)].token_str));
    const bool topChanged = fromA.predictions[0][0].token != fromB.predictions[0][0].token;
    QVERIFY(checkColumns(table, 4, pa, pb, 0, topChanged));
    QCOMPARE(page->compareBanner()->text().contains(QStringLiteral("Top-1 differs")), topChanged);
    QVERIFY(!page->compareBanner()->unaligned());
    // At 1280 x 800 B's columns show without scrolling; the Sentence column is cut around the word with "…".
    QVERIFY(bColumnsFit(viewOf(page, table)));
    const QString sentence = QStringLiteral("This program is free software; you can redistribute it under the terms of the licence.");
    const int from = int(sentence.indexOf(QStringLiteral("software"))), to = from + 8;
    QFont bold = page->font();
    bold.setBold(true);
    const QFontMetrics plain(page->font()), marked(bold);
    for (const int width : {120, 200, 320}) {
      const ElidedAround cut = elide_around(sentence, from, to, plain, marked, width);
      QCOMPARE(cut.text.mid(cut.from, cut.to - cut.from), QStringLiteral("software"));
      QVERIFY(cut.text.endsWith(QStringLiteral("…")));
      QVERIFY(plain.horizontalAdvance(cut.text.left(cut.from)) + marked.horizontalAdvance(QStringLiteral("software")) +
                  plain.horizontalAdvance(cut.text.mid(cut.to)) <= std::max(width, marked.horizontalAdvance(QStringLiteral("software…"))));
    }
    QCOMPARE(elide_around(sentence, from, to, plain, marked, 5000).text, sentence);  // room enough: whole

    // Heads switched off in model A: the ablation's column and B's columns show together, B's still B's own.
    engine()->toggleHead(0, 0);
    QVERIFY(tableShows(page, table, 7));
    QCOMPARE(table->headerData(4, Qt::Horizontal, Qt::DisplayRole).toString(), change_column_title());
    QCOMPARE(table->headerData(5, Qt::Horizontal, Qt::DisplayRole).toString(), model_b_column_title());
    HeadMask mask = HeadMask::all_on(2, 2);
    mask.at(0, 0) = 0.0f;
    a_->model().set_head_mask(mask);
    const FillMaskResult offA = fill_mask(a_->model(), a_->tokenizer(), kMasked.toStdString(), 5);
    a_->model().set_head_mask({});
    for (int row = 0; row < table->rowCount(); ++row) {
      QCOMPARE(text(table, row, 1), QString::fromStdString(offA.predictions[0][size_t(row)].token_str));
      QVERIFY(std::abs(number(table, row, 5) - probabilityB(offA.predictions[0][size_t(row)].token)) < 1e-6);
    }
    engine()->setHeadMask({});
    QVERIFY(tableShows(page, table, 6));
  }

  void attentionShowsModelBsMapBesideA() {
    AttentionPage* page = window_->attentionPage();
    window_->tabs()->setCurrentWidget(page);
    page->setText(kMasked);
    const AttentionResult fromB = attention(b_->model(), b_->tokenizer(), kMasked.toStdString());
    const AttentionData expected(std::make_shared<const AttentionResult>(fromB), false);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && !page->dataB().empty() && page->heatmapB()->isVisible(); }, kWait));
    QVERIFY(namesBoth(page->compareBanner(), folder("mlm_a"), folder("mlm_b")));
    // Before any click: B's map is there, painted, with its caption (the walkthrough saw it blank until a click).
    QVERIFY(!page->heatmapB()->shownMap().empty());
    QVERIFY(page->captionB()->text().contains(QStringLiteral("layer 0")));
    // The banner says what this view shows of B (a map has no top-1).
    QVERIFY(page->compareBanner()->text().contains(QStringLiteral("map for the same layer and head")));
    QVERIFY(!page->compareBanner()->text().contains(QStringLiteral("top-1")));
    for (const auto& [layer, head] : {std::pair{0, 0}, std::pair{1, 1}, std::pair{1, -1}}) {
      page->select(layer, head);
      const std::vector<float> shown = page->dataB().map(layer, head), direct = expected.map(layer, head);
      QCOMPARE(shown.size(), direct.size());
      for (size_t i = 0; i < shown.size(); ++i) QVERIFY(std::abs(shown[i] - direct[i]) < 1e-6f);
      QVERIFY(page->captionB()->text().contains(QStringLiteral("layer %1").arg(layer)));
      QVERIFY(std::abs(page->heatmapB()->maxWeight() - *std::max_element(direct.begin(), direct.end())) < 1e-6f);
    }
  }

  // "difference (A − B)": A's map minus B's for the shown layer and head, on a diverging scale with a legend; only
  // for the attention weights (not rollout), the two models having the same layers, heads and tokens.
  void attentionDifferenceIsAMinusB() {
    AttentionPage* page = window_->attentionPage();
    window_->tabs()->setCurrentWidget(page);
    page->setText(kMasked);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && !page->dataB().empty() && page->heatmapB()->isVisible(); }, kWait));
    QCheckBox* option = page->differenceOption();
    QVERIFY(option->isVisible() && option->isEnabled());
    QVERIFY(!page->heatmapB()->showsDifference());
    option->setChecked(true);
    const AttentionData fromA(std::make_shared<const AttentionResult>(attention(a_->model(), a_->tokenizer(), kMasked.toStdString())), false);
    const AttentionData fromB(std::make_shared<const AttentionResult>(attention(b_->model(), b_->tokenizer(), kMasked.toStdString())), false);
    for (const auto& [layer, head] : {std::pair{1, 0}, std::pair{0, -1}}) {
      page->select(layer, head);
      QVERIFY(page->heatmapB()->showsDifference());
      const std::vector<float>& shown = page->heatmapB()->shownMap();
      const std::vector<float> a = fromA.map(layer, head), b = fromB.map(layer, head);
      QCOMPARE(shown.size(), a.size());
      float largest = 0;
      for (size_t i = 0; i < shown.size(); ++i) {
        QVERIFY(std::abs(shown[i] - (a[i] - b[i])) < 1e-6f);
        largest = std::max(largest, std::abs(a[i] - b[i]));
      }
      QVERIFY(largest > 1e-4f);  // two seeds: the maps differ
      QVERIFY(std::abs(page->heatmapB()->maxWeight() - largest) < 1e-6f);
      QVERIFY(page->differenceLegend()->isVisible());
      QVERIFY(std::abs(page->differenceLegend()->maximum() - largest) < 1e-6f);
      QVERIFY(page->captionB()->text().contains(QStringLiteral("A − B")));
    }
    // Diverging, centred on 0: white at 0, red where A attends more, blue where B does.
    QCOMPARE(difference_color(0.0f), QColor(Qt::white));
    QVERIFY(difference_color(0.5f).red() > difference_color(0.5f).blue());
    QVERIFY(difference_color(-0.5f).blue() > difference_color(-0.5f).red());
    // Rollout maps are A's alone: no difference, and the option says why.
    page->setSource(AttentionPage::Source::Rollout);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && page->data().heads() == 1; }, kWait));
    QVERIFY(!option->isEnabled());
    QVERIFY(option->toolTip().contains(QStringLiteral("Attention weights")));
    QVERIFY(!page->heatmapB()->showsDifference());
    QVERIFY(!page->differenceLegend()->isVisible());
    page->setSource(AttentionPage::Source::Weights);
    QVERIFY(page->heatmapB()->showsDifference());
    option->setChecked(false);
    QVERIFY(!page->heatmapB()->showsDifference());
  }

  // The saliency strip shows model B's strip under A's: the same output (A's word at A's mask), chip under chip,
  // with B's scores as explain/saliency gives them for model B.
  void saliencyShowsModelBsStripUnderA() {
    FillMaskPage* page = window_->fillMaskPage();
    window_->tabs()->setCurrentWidget(page);
    SaliencyPanel* panel = page->saliency();
    panel->setMethod(SaliencyPanel::GradientInput);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && !panel->waiting() && panel->shown() && panel->shownB(); }, kWait));
    const ExplainTarget target = panel->shown()->target;
    QCOMPARE(panel->shownB()->target.position, target.position);
    QCOMPARE(panel->shownB()->target.index, target.index);
    const Encoding encoding = b_->tokenizer().encode(kMasked.toStdString());
    const Saliency direct = saliency(b_->model(), encoding, target);
    QVERIFY(test::normalised_error(panel->shownB()->saliency.scores, direct.scores) < 1e-4);
    QVERIFY(!panel->stripB()->isHidden());
    QCOMPARE(panel->stripB()->encoding().size(), encoding.size());
    QCOMPARE(panel->stripB()->heat().size(), encoding.size());
    for (int t = 0; t < int(encoding.size()); ++t) QCOMPARE(panel->stripB()->chipRect(t).left(), panel->strip()->chipRect(t).left());
    QVERIFY(panel->summaryB().contains(QStringLiteral("mlm_b")));
    QVERIFY(!panel->summaryB().contains(QStringLiteral("line up")));
    panel->setMethod(SaliencyPanel::Off);
    QVERIFY(panel->stripB()->isHidden());
  }

  // Rank heads ranks both models: B's grid beside A's holds rank_heads on model B (for its own top output).
  void rankHeadsRanksBothModels() {
    AttentionPage* page = window_->attentionPage();
    window_->tabs()->setCurrentWidget(page);
    page->setText(kMasked);
    QVERIFY(settled());
    QSignalSpy ranked(engine(), &EngineClient::headsRanked);
    page->rankButton()->click();
    QVERIFY(ranked.wait(kWait) || ranked.count() > 0);
    QVERIFY(page->rankingGrid()->ranking() != nullptr);
    HeadRankingGrid* gridB = page->rankingGridB();
    QVERIFY(gridB->ranking() != nullptr);
    QVERIFY(gridB->isVisibleTo(page));
    const Encoding encoding = b_->tokenizer().encode(kMasked.toStdString());
    const ExplainTarget target = resolve_target(b_->model(), b_->tokenizer(), encoding, ExplainTask::FillMask);
    const HeadRanking expected = rank_heads(b_->model(), encoding, target);
    QCOMPARE(gridB->ranking()->target.index, target.index);
    QCOMPARE(gridB->ranking()->ranking.ranking, expected.ranking);
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 2; ++h) QVERIFY(std::abs(gridB->change(l, h) + expected.probability_change[size_t(l) * 2 + h]) < 1e-9);
    QVERIFY(page->rankingCaptionB()->text().contains(QStringLiteral("mlm_b")));
    // The progress counted both models' heads.
    QCOMPARE(page->rankProgress()->maximum(), 8);
    QCOMPARE(page->rankProgress()->value(), 8);
  }

  // The neuron view shows model B's vectors for the same layer, head and query token below A's.
  void neuronViewShowsModelBBelowA() {
    AttentionPage* page = window_->attentionPage();
    window_->tabs()->setCurrentWidget(page);
    page->setText(kMasked);
    QVERIFY(settled());
    page->select(1, 1);
    page->showNeuronView();
    NeuronView* view = page->neuronView();
    view->setQuery(3);
    QVERIFY(QTest::qWaitFor([&] {
      return !engine()->busy() && view->shown() && view->shownB() && view->shown()->query == 3 && view->shownB()->query == 3 &&
             view->shownB()->layer == 1 && view->shownB()->head == 1;
    }, kWait));
    const NeuronVectors direct = neuron_vectors(b_->model(), b_->tokenizer().encode(kMasked.toStdString()), 1, 1, 3);
    const NeuronVectors& shown = *view->shownB();
    QCOMPARE(shown.tokens, direct.tokens);
    QVERIFY(test::normalised_error(shown.q, direct.q) < 1e-5);
    QVERIFY(test::normalised_error(shown.keys, direct.keys) < 1e-5);
    for (int k = 0; k < direct.tokens; ++k) QVERIFY(std::abs(shown.weights[size_t(k)] - direct.weights[size_t(k)]) < 1e-6);
    // Not A's: the two seeds' query vectors differ.
    QVERIFY(test::normalised_error(view->shown()->q, direct.q) > 1e-3);
    QVERIFY(view->captionB()->isVisibleTo(view));
    QVERIFY(view->captionB()->text().contains(QStringLiteral("mlm_b")));
  }

  void classifyLinesUpLabels() {
    const auto classifier = [](RandomModelSpec& spec) { spec.labels = {"negative", "neutral", "positive"}; };
    const fs::path a = tiny("cls_a", 3, classifier), b = tiny("cls_b", 8, classifier);
    QVERIFY(openPair(a, b));
    ClassifyPage* page = window_->classifyPage();
    window_->tabs()->setCurrentWidget(page);
    QVERIFY(tableShows(page, page->labels(), 4));  // Label, Probability, Model B, B vs A
    QVERIFY(namesBoth(page->compareBanner(), a, b));
    const ClassifyResult fromA = classify(a_->model(), a_->tokenizer(), kSentence.toStdString());
    const ClassifyResult fromB = classify(b_->model(), b_->tokenizer(), kSentence.toStdString());
    std::vector<double> pa, pb;
    int bestA = 0, bestB = 0;
    for (size_t i = 0; i < fromA.scores.size(); ++i) {
      pa.push_back(fromA.scores[i].score);
      pb.push_back(fromB.scores[i].score);  // the same labels in the same order
      if (fromA.scores[i].score > fromA.scores[size_t(bestA)].score) bestA = int(i);
      if (fromB.scores[i].score > fromB.scores[size_t(bestB)].score) bestB = int(i);
    }
    QVERIFY(checkColumns(page->labels(), 2, pa, pb, bestA, bestA != bestB));
  }

  void entitiesLineUpBySpanAndLabel() {
    const auto tagger = [](RandomModelSpec& spec) {
      spec.labels = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
      spec.token_classification = true;
    };
    const fs::path a = tiny("ner_a", 7, tagger), b = tiny("ner_b", 7, [&](RandomModelSpec& spec) {
      tagger(spec);
      spec.init_std = 0.45f;  // near model A: some entities the same, with other scores
    });
    QVERIFY(openPair(a, b));
    EntitiesPage* page = window_->entitiesPage();
    window_->tabs()->setCurrentWidget(page);
    EntityOptions options;
    options.aggregation = page->aggregation();
    const EntityResult fromA = recognize_entities(a_->model(), a_->tokenizer(), kTagged.toStdString(), options);
    const EntityResult fromB = recognize_entities(b_->model(), b_->tokenizer(), kTagged.toStdString(), options);
    QVERIFY(!fromA.entities.empty());
    QVERIFY(tableShows(page, page->entities(), 7));
    QVERIFY(namesBoth(page->compareBanner(), a, b));
    int matched = 0;
    for (size_t i = 0; i < fromA.entities.size(); ++i) {
      const Entity& e = fromA.entities[i];
      const auto same = std::find_if(fromB.entities.begin(), fromB.entities.end(), [&](const Entity& f) {
        return f.start == e.start && f.end == e.end && f.label == e.label;
      });
      const int row = int(i);
      if (same == fromB.entities.end()) {
        QCOMPARE(text(page->entities(), row, 5), QStringLiteral("B does not find it"));
      } else {
        ++matched;
        QVERIFY(std::abs(number(page->entities(), row, 5) - same->score) < 1e-6);
        QVERIFY(text(page->entities(), row, 6).startsWith(probability_change(same->score, e.score)));
      }
    }
    qInfo() << "entities of A:" << fromA.entities.size() << "also in B:" << matched << "B's:" << fromB.entities.size();
    // The banner's short form ("3 entities differ (…)", no "Top-1 differs"); B's columns fit at 1280 x 800 with the
    // Text column still readable.
    const QString banner = page->compareBanner()->text();
    QVERIFY2(!banner.contains(QStringLiteral("Top-1")) &&
                 (banner.contains(QStringLiteral(" differ")) || banner.contains(QStringLiteral("Both find the same entities"))),
             qPrintable(banner));
    QTableView* view = viewOf(page, page->entities());
    QVERIFY(bColumnsFit(view));
    QVERIFY(view->columnWidth(1) >= 80);
  }

  void qaLinesUpAnswerSpans() {
    const auto reader = [](RandomModelSpec& spec) { spec.question_answering = true; };
    const fs::path a = tiny("qa_a", 6, reader), b = tiny("qa_b", 6, [&](RandomModelSpec& spec) {
      reader(spec);
      spec.init_std = 0.4f;
    });
    QVERIFY(openPair(a, b));
    QaPage* page = window_->qaPage();
    window_->tabs()->setCurrentWidget(page);
    QaOptions options;
    options.top_k = 5;
    const QaResult fromA = answer_question(a_->model(), a_->tokenizer(), kQuestion.toStdString(), kContext.toStdString(), options);
    const QaResult fromB = answer_question(b_->model(), b_->tokenizer(), kQuestion.toStdString(), kContext.toStdString(), options);
    QVERIFY(tableShows(page, page->answers(), 7));
    QVERIFY(namesBoth(page->compareBanner(), a, b));
    QCOMPARE(page->answers()->rowCount(), int(fromA.answers.size()));
    for (size_t i = 0; i < fromA.answers.size(); ++i) {
      const QaAnswer& x = fromA.answers[i];
      const auto same = std::find_if(fromB.answers.begin(), fromB.answers.end(), [&](const QaAnswer& y) { return y.start == x.start && y.end == x.end; });
      if (same == fromB.answers.end()) {
        QVERIFY(text(page->answers(), int(i), 5).startsWith(QStringLiteral("not in B's top")));
      } else {
        QVERIFY(std::abs(number(page->answers(), int(i), 5) - same->score) < 1e-6);
        QVERIFY(text(page->answers(), int(i), 6).startsWith(probability_change(same->score, x.score)));
      }
    }
    const bool topChanged = fromA.answers.at(0).start != fromB.answers.at(0).start || fromA.answers[0].end != fromB.answers[0].end;
    QCOMPARE(text(page->answers(), 0, 6).contains(QStringLiteral("top-1 changed")), topChanged);
    QVERIFY(bColumnsFit(viewOf(page, page->answers())));  // at 1280 x 800, no scrolling to B's columns
    // A's top answer not among B's: the change cell says only that the top changed, with no stray "·" before it.
    QaResult mineA, mineB;
    mineA.answers.push_back(QaAnswer{});
    mineA.answers[0].answer = "the mat";
    mineA.answers[0].start = 15;
    mineA.answers[0].end = 22;
    mineB.answers.push_back(QaAnswer{});
    mineB.answers[0].answer = "the door";
    mineB.answers[0].start = 30;
    mineB.answers[0].end = 38;
    const ModelBColumns columns = compare_answers_b(mineA, mineB);
    QCOMPARE(columns.changes.at(0), QStringLiteral("top-1 changed (B: “the door”)"));
    // Model B without the view's head: one sentence, not "Model B: model B has no …".
    ModelBAnswer without;
    without.problem = QStringLiteral("model B has no question-answering head");
    page->compareBanner()->showReply(&without);
    QVERIFY(page->compareBanner()->text().contains(QStringLiteral("Model B has no question-answering head.")));
    QVERIFY(!page->compareBanner()->text().contains(QStringLiteral("Model B: model B")));
  }

  void anotherVocabularyIsShownUnaligned() {
    // Model C: the same words with two of them swapped, so the same id means another word.
    std::ifstream in(test::small_vocab(dir_));
    std::vector<std::string> words;
    for (std::string line; std::getline(in, line);) words.push_back(line);
    std::swap(words.at(1500), words.at(1501));
    const fs::path vocab = folder("other-vocab.txt");
    std::ofstream(vocab) << [&] {
      std::string all;
      for (const std::string& w : words) all += w + "\n";
      return all;
    }();
    const fs::path a = tiny("mlm_a", 5), c = tiny("mlm_c", 11, [&](RandomModelSpec& spec) { spec.vocab_file = vocab; });
    QVERIFY(openPair(a, c));
    QVERIFY(!engine()->sameVocabulary());
    FillMaskPage* page = window_->fillMaskPage();
    window_->tabs()->setCurrentWidget(page);
    QVERIFY(tableShows(page, page->predictions(), 4));  // no B columns: the ids do not line up
    QVERIFY(QTest::qWaitFor([&] { return page->compareBanner()->unaligned(); }, kWait));
    const QString banner = page->compareBanner()->text();
    QVERIFY(banner.contains(QStringLiteral("vocabularies differ")));
    QVERIFY(namesBoth(page->compareBanner(), a, c));
    // Model B's own top words, from the engine directly.
    const FillMaskResult fromC = fill_mask(b_->model(), b_->tokenizer(), kMasked.toStdString(), 5);
    for (const MaskPrediction& p : fromC.predictions.at(0))
      QVERIFY2(banner.contains(QStringLiteral("“%1” %2").arg(QString::fromStdString(p.token_str).trimmed(), percent(p.score)).toHtmlEscaped()),
               qPrintable(banner));
    // Saliency: B's strip on its own, with the notice.
    SaliencyPanel* panel = page->saliency();
    panel->setMethod(SaliencyPanel::GradientInput);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && !panel->waiting() && panel->shownB(); }, kWait));
    QVERIFY(panel->summaryB().contains(QStringLiteral("vocabularies differ")));
    panel->setMethod(SaliencyPanel::Off);
    // Attention: no A − B map across vocabularies.
    AttentionPage* attentionPage = window_->attentionPage();
    window_->tabs()->setCurrentWidget(attentionPage);
    attentionPage->setText(kMasked);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && !attentionPage->dataB().empty(); }, kWait));
    QVERIFY(!attentionPage->differenceOption()->isEnabled());
    QVERIFY(attentionPage->differenceOption()->toolTip().contains(QStringLiteral("vocabularies differ")));
  }

  void stoppingRestoresTheNormalViews() {
    const fs::path a = tiny("mlm_a", 5), b = tiny("mlm_b", 11);
    QVERIFY(openPair(a, b));
    FillMaskPage* page = window_->fillMaskPage();
    QVERIFY(tableShows(page, page->predictions(), 6));
    auto* stop = window_->findChild<QAction*>(QStringLiteral("stopCompare"));
    QVERIFY(stop->isEnabled());
    stop->trigger();
    QVERIFY(!engine()->comparing());
    QVERIFY(!stop->isEnabled());
    QVERIFY(tableShows(page, page->predictions(), 4));
    QVERIFY(page->compareBanner()->isHidden());
    QVERIFY(window_->classifyPage()->compareBanner()->isHidden());
    QVERIFY(window_->qaPage()->compareBanner()->isHidden());
    QVERIFY(window_->entitiesPage()->compareBanner()->isHidden());
    QVERIFY(window_->attentionPage()->compareBanner()->isHidden());
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && !window_->attentionPage()->heatmapB()->isVisibleTo(window_->attentionPage()); }, kWait));
    // The plain view again: A's numbers, as the engine gives them.
    const FillMaskResult fromA = fill_mask(a_->model(), a_->tokenizer(), kMasked.toStdString(), 5);
    for (int row = 0; row < page->predictions()->rowCount(); ++row)
      QVERIFY(std::abs(number(page->predictions(), row, 2) - fromA.predictions[0][size_t(row)].score) < 1e-6);
  }

  void aBadModelBLeavesEverythingAsItWas() {
    QString error;
    connect(engine(), &EngineClient::failed, this, [&](quint64, Job job, const QString& message) {
      if (job == Job::Compare) error = message;
    });
    engine()->compareWith(QString::fromStdString(folder("no-such-model").string()));
    QVERIFY(QTest::qWaitFor([&] { return !error.isEmpty(); }, kWait));
    qInfo() << "the error:" << error;
    QVERIFY(!engine()->comparing());
    QVERIFY(engine()->model() != nullptr);
  }

  // The A − B legend: its labels never overlap and "max |A − B| 0.00" always has its room, down to the narrowest
  // the legend gets, as in a 1024 x 700 window.
  void differenceLegendFits() {
    AttentionLegend legend(AttentionLegend::Kind::Difference);
    QFont font = legend.font();
    font.setPixelSize(11);
    const QFontMetrics metrics(font);
    const int valueWidth = metrics.horizontalAdvance(QStringLiteral("max |A − B| 0.00"));
    for (int width = legend.minimumSizeHint().width(); width <= 460; width += 5) {
      const QRect rect(0, 4, width, 26);
      const DifferenceLegendLayout layout = difference_legend_layout(rect, metrics);
      QCOMPARE(layout.labels.size(), 3);
      for (int i = 0; i < 3; ++i) {
        QVERIFY(layout.labelRects[i].left() >= rect.left() && layout.labelRects[i].right() <= rect.right());
        for (int j = i + 1; j < 3; ++j) QVERIFY2(!layout.labelRects[i].intersects(layout.labelRects[j]), qPrintable(layout.labels.join(' ')));
      }
      QVERIFY(layout.value.width() >= valueWidth && layout.value.right() <= rect.right());
      if (width >= 400) QCOMPARE(layout.labels.first(), QStringLiteral("−1 B more"));  // words where they fit
    }
    // In a 1024 x 700 window the legend gets at least its minimum width.
    QVERIFY(openPair(tiny("mlm_a", 5), tiny("mlm_b", 11)));
    AttentionPage* page = window_->attentionPage();
    window_->tabs()->setCurrentWidget(page);
    page->findChild<QTabWidget*>()->setCurrentIndex(0);  // the Map tab (another test left the head ranking in front)
    window_->resize(1024, 700);
    page->setText(kMasked);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && !page->dataB().empty() && page->data().size() == page->dataB().size(); }, kWait));
    page->differenceOption()->setChecked(true);
    QVERIFY(QTest::qWaitFor([&] { return page->differenceLegend()->isVisible(); }, kWait));
    QTest::qWait(50);  // laid out
    QVERIFY2(page->differenceLegend()->width() >= page->differenceLegend()->minimumSizeHint().width(),
             qPrintable(QStringLiteral("%1 < %2").arg(page->differenceLegend()->width()).arg(page->differenceLegend()->minimumSizeHint().width())));
    page->differenceOption()->setChecked(false);
    window_->resize(1280, 800);
  }

  // Model B with fewer layers: for a layer it lacks, its place says what B has instead of an empty map.
  void attentionSaysWhatModelBLacks() {
    const fs::path a = tiny("mlm_a", 5), small = tiny("mlm_b_1layer", 11, [](RandomModelSpec& spec) { spec.layers = 1; });
    QVERIFY(openPair(a, small));
    AttentionPage* page = window_->attentionPage();
    window_->tabs()->setCurrentWidget(page);
    page->setText(kSentence);
    QVERIFY(QTest::qWaitFor([&] { return !engine()->busy() && page->dataB().layers() == 1 && page->data().layers() == 2; }, kWait));
    const int heads = page->dataB().heads();
    const QString has = QStringLiteral("B has only 1 layer × %1 heads").arg(heads);
    for (const bool difference : {false, true}) {
      page->differenceOption()->setChecked(difference);
      page->select(1, 0);
      QVERIFY2(page->captionB()->text().contains(has), qPrintable(page->captionB()->text()));
      QVERIFY(!page->captionB()->text().endsWith(QStringLiteral("Its own map:")));
      QVERIFY(page->heatmapB()->shownMap().empty());
      page->select(0, 0);  // a layer B has: its map
      QVERIFY(!page->heatmapB()->shownMap().empty());
      QVERIFY(!page->captionB()->text().contains(has));
    }
    page->differenceOption()->setChecked(false);
  }

  // File > Compare with the default model: the built-in model as B, offered while A is another model.
  void compareWithTheDefaultModel() {
    auto* action = window_->findChild<QAction*>(QStringLiteral("compareDefaultModel"));
    QVERIFY(action);
    const fs::path a = tiny("mlm_a", 5), b = tiny("mlm_b", 11);
    QVERIFY(openPair(a, b));
    QVERIFY(action->isEnabled());
    QSignalSpy compared(engine(), &EngineClient::compareChanged);
    action->trigger();
    QVERIFY(QTest::qWaitFor([&] { return compared.count() > 0; }, kWait) && settled());
    QVERIFY(engine()->comparing());
    QVERIFY(fs::equivalent(engine()->modelB()->info.folder, resolveGuiModel("default")));
    QVERIFY(is_default_model(*engine()->modelB()));
    QVERIFY(!is_default_model(*engine()->model()));
    // The default model as A: nothing to compare it with by this action.
    engine()->stopCompare();
    QSignalSpy loaded(engine(), &EngineClient::loaded);
    window_->openModel(QStringLiteral("default"));
    QVERIFY((loaded.wait(kWait) || loaded.count() > 0) && settled());
    QVERIFY(!action->isEnabled());
  }

  void cleanupTestCase() { window_.reset(); }
};

QTEST_MAIN(TestGuiCompare)
#include "test_gui_compare.moc"
