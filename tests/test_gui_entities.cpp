// The Entities view and the task pages' shared base, driven offscreen: entities and per-token label probabilities
// match recognize_entities called directly, for every aggregation strategy; hovering an entity outlines its tokens;
// a model without a token-classification head says so; empty text shows a hint; long texts go in windows; replies
// to outdated text are dropped; and the busy indicator (greyed result, spinner) appears only for slow replies.
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTextDocument>
#include <QVBoxLayout>
#include <QtTest>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "busy_overlay.h"
#include "classify_page.h"
#include "entities_page.h"
#include "fill_mask_page.h"
#include "item_models.h"
#include "main_window.h"
#include "model/random_model.h"
#include "page_support.h"
#include "qa_page.h"
#include "session.h"
#include "task_page.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "text_spans.h"
#include "tokenize_page.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 30000;  // ms
const std::vector<std::string> kConll = {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"};
const QString kText = QStringLiteral("Unaffable Ada Lovelace met Charles Babbage in London and Zürich 🐈 yesterday.");

RandomModelSpec spec_with(std::vector<std::string> labels, bool qa = false, bool untrained = false) {
  RandomModelSpec spec = test::small_bert_spec(11, 0.5f);  // confident, varied labels: many entities, differing per strategy
  spec.labels = std::move(labels);
  spec.question_answering = qa;
  spec.untrained_label = untrained;
  return spec;
}

fs::path make_model(const QTemporaryDir& dir, const std::string& name, const RandomModelSpec& spec) {
  const fs::path folder = fs::path(dir.path().toStdString()) / name;
  write_random_model(folder, spec);
  return folder;
}

// A BertForTokenClassification folder: a random sequence classifier's "classifier" tensor is [labels, hidden], the
// shape of a token classifier's, so declaring the class in config.json makes it one (its pooler is then unused).
fs::path make_token_model(const QTemporaryDir& dir, const std::string& name, bool untrained = false) {
  const fs::path folder = make_model(dir, name, spec_with(kConll, false, untrained));
  nlohmann::json config;
  std::ifstream(folder / "config.json") >> config;
  config["architectures"] = {"BertForTokenClassification"};
  std::ofstream(folder / "config.json") << config.dump(2) << "\n";
  return folder;
}

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

bool load(MainWindow& window, const fs::path& folder) {
  QSignalSpy loaded(window.engine(), &EngineClient::loaded);
  window.openModel(q(folder));
  return loaded.wait(kWait) || loaded.count() > 0;
}

EntityResult expected(const fs::path& model, const QString& text, Aggregation aggregation) {
  Session session(model, {BackendKind::Cpu});
  EntityOptions options;
  options.aggregation = aggregation;
  return recognize_entities(session.model(), session.tokenizer(), text.toStdString(), options);
}

// Whether the page's table shows exactly `want`'s entities: type, text, score, code-point span.
bool table_matches(EntitiesPage* page, const EntityResult& want, QString* why) {
  ResultTableModel* table = page->entities();
  if (table->rowCount() != int(want.entities.size())) {
    *why = QStringLiteral("%1 rows, %2 entities").arg(table->rowCount()).arg(want.entities.size());
    return false;
  }
  for (int r = 0; r < table->rowCount(); ++r) {
    const Entity& e = want.entities[size_t(r)];
    auto cell = [&](int column) { return table->index(r, column).data(Qt::EditRole); };
    if (cell(EntitiesPage::Type).toString() != QString::fromStdString(e.label) ||
        cell(EntitiesPage::Text).toString() != QString::fromStdString(e.word) ||
        std::abs(cell(EntitiesPage::Score).toDouble() - e.score) > 1e-6 || cell(EntitiesPage::Start).toInt() != e.start ||
        cell(EntitiesPage::End).toInt() != e.end) {
      *why = QStringLiteral("row %1: %2 '%3' %4 [%5, %6) vs %7 '%8' %9 [%10, %11)")
                 .arg(r).arg(cell(0).toString(), cell(1).toString()).arg(cell(2).toDouble()).arg(cell(3).toInt()).arg(cell(4).toInt())
                 .arg(QString::fromStdString(e.label), QString::fromStdString(e.word)).arg(e.score).arg(e.start).arg(e.end);
      return false;
    }
  }
  return true;
}

// A minimal page on the shared base: its results are a label; replies are tokenize replies the test emits itself.
class ProbePage : public TaskPage {
 public:
  explicit ProbePage(EngineClient* engine) : TaskPage(engine, Job::Tokenize, 50) {
    shown = new QLabel(QStringLiteral("old result"), this);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(message());
    layout->addWidget(wrapResults(shown), 1);
    onReply(&EngineClient::tokenized, [this](const Ptr<ShownEncoding>&) { ++replies; });
  }
  void refresh() override {}
  void send(quint64 id) { track(id); }
  QLabel* shown;
  int replies = 0;
};
}  // namespace

class TestGuiEntities : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path ner_, classifier_, qa_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(dir_.isValid());
    ner_ = make_token_model(dir_, "ner");
    classifier_ = make_model(dir_, "classifier", spec_with({"negative", "positive"}));
    qa_ = make_model(dir_, "qa", spec_with({}, true));
    Session check(ner_, {BackendKind::Cpu});
    QVERIFY(check.model().has_token_classifier() && !check.model().has_classifier());
  }

  // The base: the spinner waits kBusyDelayMs, so a fast reply never shows it; a slow one greys the old result
  // until its reply comes; a reply or failure for an older request is dropped.
  void busyIndicatorAndStaleReplies() {
    EngineClient engine;
    ProbePage page(&engine);
    page.resize(400, 300);
    page.show();
    QVERIFY(QTest::qWaitForWindowExposed(&page));
    auto reply = std::make_shared<const ShownEncoding>();

    page.send(7);  // fast: answered within the delay
    QTest::qWait(20);
    emit engine.tokenized(7, reply);
    QCOMPARE(page.replies, 1);
    QTest::qWait(TaskPage::kBusyDelayMs + 100);
    QVERIFY(!page.showsBusy());

    page.send(8);  // slow
    QTest::qWait(TaskPage::kBusyDelayMs / 3);
    QVERIFY2(!page.showsBusy(), "the spinner must not appear at once (fast replies would flicker)");
    QTRY_VERIFY_WITH_TIMEOUT(page.showsBusy(), 2000);
    QVERIFY(page.busyOverlay()->isVisible());
    QCOMPARE(page.busyOverlay()->geometry(), page.shown->geometry());  // it lies over the old result
    page.send(9);  // the text changed again: 8's reply is stale now
    emit engine.tokenized(8, reply);
    emit engine.failed(8, Job::Tokenize, QStringLiteral("stale failure"));
    QCOMPARE(page.replies, 1);
    QVERIFY(!page.message()->isVisible());
    QVERIFY2(page.showsBusy(), "still waiting for the latest request");
    emit engine.failed(9, Job::FillMask, QStringLiteral("another page's job"));
    QVERIFY(!page.message()->isVisible());
    emit engine.tokenized(9, reply);
    QCOMPARE(page.replies, 2);
    QVERIFY(!page.showsBusy() && !page.waiting());

    page.send(10);  // a failure ends the busy state too, and is shown
    QTRY_VERIFY_WITH_TIMEOUT(page.showsBusy(), 2000);
    emit engine.failed(10, Job::Tokenize, QStringLiteral("out of memory"));
    QVERIFY(!page.showsBusy());
    QVERIFY(page.message()->isError() && page.message()->text() == QStringLiteral("Out of memory"));  // as a sentence
  }

  // The engine's lower-case errors begin a sentence on the message line; file names and model ids stay as written.
  void messagesReadAsSentences() {
    QCOMPARE(as_sentence(QStringLiteral("the text has no [MASK] token")), QStringLiteral("The text has no [MASK] token"));
    QCOMPARE(as_sentence(QStringLiteral("isn't there")), QStringLiteral("Isn't there"));
    QCOMPARE(as_sentence(QStringLiteral("reviews.csv: line 3 has 1 field")), QStringLiteral("reviews.csv: line 3 has 1 field"));
    QCOMPARE(as_sentence(QStringLiteral("bert-base-uncased is not in the cache")), QStringLiteral("bert-base-uncased is not in the cache"));
    QCOMPARE(as_sentence(QStringLiteral("[MASK] is the only token")), QStringLiteral("[MASK] is the only token"));
    QCOMPARE(as_sentence(QStringLiteral("évaluation")), QStringLiteral("Évaluation"));
    QCOMPARE(as_sentence(QString()), QString());
    MessageLine line;
    line.showNotice(QStringLiteral("every head on"));
    QCOMPARE(line.text(), QStringLiteral("Every head on"));
  }

  // Every task page is on the base, with its results under a busy overlay, and a request out is "waiting".
  void everyTaskPageHasTheBusyIndicator() {
    MainWindow window;
    QVERIFY(load(window, ner_));
    for (TaskPage* page : std::initializer_list<TaskPage*>{window.tokenizePage(), window.fillMaskPage(), window.qaPage(),
                                                           window.classifyPage(), window.entitiesPage()})
      QVERIFY(page->busyOverlay());
    EntitiesPage* page = window.entitiesPage();
    page->setText(QStringLiteral("Ada met Charles in London."));
    QVERIFY(page->waiting());
    QTRY_VERIFY_WITH_TIMEOUT(!page->waiting() && page->shown(), kWait);
    QVERIFY(!page->showsBusy());
  }

  void entitiesMatchTheEngine() {
    MainWindow window;
    QVERIFY(load(window, ner_));
    window.resize(1280, 800);
    window.show();
    window.tabs()->setCurrentWidget(window.entitiesPage());
    EntitiesPage* page = window.entitiesPage();
    QCOMPARE(page->aggregation(), Aggregation::Simple);  // the view's default (transformers' pipeline: none)
    page->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!page->waiting() && page->shown(), kWait);
    const EntityResult want = expected(ner_, kText, Aggregation::Simple);
    QVERIFY2(want.entities.size() >= 2, "the random model should find some entities");
    QString why;
    QVERIFY2(table_matches(page, want, &why), qPrintable(why));

    // The highlighted text: each entity's document range holds its characters, on its type's colour.
    const QString document = page->highlightedText()->document()->toPlainText();
    const CodePointIndex index(kText);
    for (size_t i = 0; i < want.entities.size(); ++i) {
      const Entity& e = want.entities[i];
      const auto [from, to] = page->entityDocumentRange(int(i));
      QCOMPARE(document.mid(from, to - from), kText.mid(index.utf16(e.start), index.utf16(e.end) - index.utf16(e.start)));
      QTextCursor cursor(page->highlightedText()->document());
      cursor.setPosition(from + 1);
      QCOMPARE(cursor.charFormat().background().color(), page->palette().color(QString::fromStdString(e.label)));
    }
    QVERIFY(document.contains(QStringLiteral("yesterday.")));
    for (const char* type : {"PER", "ORG", "LOC", "MISC"}) QVERIFY(page->legendText().contains(type));
    QVERIFY(!page->legendText().contains(QStringLiteral(">&nbsp;O&nbsp;<")));

    // The heat map: one row per text token, a column per label, the engine's probabilities.
    TokenLabelModel* heat = page->tokenLabels();
    QCOMPARE(heat->rowCount(), int(want.tokens.size()));
    QCOMPARE(heat->columnCount(), 1 + int(kConll.size()));
    for (int c = 0; c < int(kConll.size()); ++c) QCOMPARE(heat->headerData(c + 1, Qt::Horizontal, Qt::DisplayRole).toString(), QString::fromStdString(kConll[size_t(c)]));
    for (int r = 0; r < heat->rowCount(); ++r)
      for (int c = 0; c < int(kConll.size()); ++c)
        QVERIFY(std::abs(heat->index(r, c + 1).data(Qt::EditRole).toDouble() - want.tokens[size_t(r)].probabilities[size_t(c)]) < 1e-9);
    QCOMPARE(heat->index(0, 0).data().toString(), QStringLiteral("una"));  // readable pieces: "una", "##ffa", ...
    QCOMPARE(heat->index(1, 0).data().toString(), QStringLiteral("##ffa"));

    // Hovering an entity outlines its tokens (and only those) and marks its span in the text.
    size_t longest = 0;
    for (size_t i = 0; i < want.entities.size(); ++i)
      if (want.entities[i].tokens.size() > want.entities[longest].tokens.size()) longest = i;
    page->showEntity(int(longest));
    QCOMPARE(page->shownEntity(), int(longest));
    for (int r = 0; r < heat->rowCount(); ++r) {
      const auto& tokens = want.entities[longest].tokens;
      QCOMPARE(heat->isHighlighted(r), std::find(tokens.begin(), tokens.end(), r) != tokens.end());
    }
    QCOMPARE(page->highlightedText()->extraSelections().size(), 1);
    QCOMPARE(page->highlightedText()->extraSelections().first().cursor.selectionStart(), page->entityDocumentRange(int(longest)).first);
    page->showEntity(-1);
    for (int r = 0; r < heat->rowCount(); ++r) QVERIFY(!heat->isHighlighted(r));
    QVERIFY(page->highlightedText()->extraSelections().isEmpty());
  }

  void aggregationChoiceChangesTheTable() {
    MainWindow window;
    QVERIFY(load(window, ner_));
    EntitiesPage* page = window.entitiesPage();
    page->setText(kText);
    QTRY_VERIFY_WITH_TIMEOUT(!page->waiting() && page->shown(), kWait);
    QStringList simpleTypes;
    for (int r = 0; r < page->entities()->rowCount(); ++r) simpleTypes << page->entities()->index(r, 0).data().toString();
    for (Aggregation a : {Aggregation::None, Aggregation::First, Aggregation::Average, Aggregation::Max, Aggregation::Simple}) {
      page->aggregationChoice()->setCurrentIndex(page->aggregationChoice()->findData(int(a)));
      emit page->aggregationChoice()->activated(page->aggregationChoice()->currentIndex());  // as a user's choice
      QVERIFY(page->waiting());
      QTRY_VERIFY_WITH_TIMEOUT(!page->waiting() && page->shown() && page->shown()->aggregation == a, kWait);
      const EntityResult want = expected(ner_, kText, a);
      QString why;
      QVERIFY2(table_matches(page, want, &why), qPrintable(QString::fromStdString(aggregation_name(a)) + ": " + why));
      if (a == Aggregation::None) {  // a row per token, with the B-/I- labels
        QVERIFY(page->entities()->rowCount() >= int(simpleTypes.size()));
        for (int r = 0; r < page->entities()->rowCount(); ++r)
          QVERIFY(page->entities()->index(r, 0).data().toString().contains(QLatin1Char('-')));
      }
    }
    for (const QString& type : simpleTypes) QVERIFY2(!type.contains(QLatin1Char('-')), qPrintable(type));
  }

  void modelsWithoutTheHeadSaySo() {
    MainWindow window;
    for (const fs::path& model : {classifier_, qa_}) {
      QVERIFY(load(window, model));
      EntitiesPage* page = window.entitiesPage();
      QVERIFY(page->message()->text().contains(QStringLiteral("no token-classification head")));
      QVERIFY(page->message()->text().contains(model == classifier_ ? QStringLiteral("BertForSequenceClassification")
                                                                    : QStringLiteral("BertForQuestionAnswering")));
      QVERIFY(!page->message()->isError());
      QCOMPARE(page->latestRequest(), quint64(0));  // nothing asked of the engine
      QCOMPARE(page->entities()->rowCount(), 0);
      QVERIFY(!page->aggregationChoice()->isEnabled());
    }
    QVERIFY(load(window, ner_));  // and back: the page works again
    QTRY_VERIFY_WITH_TIMEOUT(window.entitiesPage()->shown() != nullptr, kWait);
    QVERIFY(!window.entitiesPage()->message()->isVisible() || !window.entitiesPage()->message()->isError());
  }

  void emptyTextShowsAHint() {
    MainWindow window;
    QVERIFY(load(window, ner_));
    EntitiesPage* page = window.entitiesPage();
    QTRY_VERIFY_WITH_TIMEOUT(page->shown() != nullptr, kWait);
    page->setText(QStringLiteral("   \n "));
    QVERIFY(!page->waiting());
    QCOMPARE(page->entities()->rowCount(), 0);
    QCOMPARE(page->tokenLabels()->rowCount(), 0);
    QVERIFY(!page->message()->isError());
    QVERIFY(page->message()->text().contains(QStringLiteral("Type a text")));
  }

  void staleRepliesAreDropped() {
    MainWindow window;
    QVERIFY(load(window, ner_));
    EntitiesPage* page = window.entitiesPage();
    QTRY_VERIFY_WITH_TIMEOUT(!window.engine()->busy(), kWait);
    QSignalSpy found(window.engine(), &EngineClient::entitiesFound);
    for (int i = 0; i < 20; ++i) page->setText(QStringLiteral("Person%1 visited Paris with Bob.").arg(i));
    const QString last = QStringLiteral("Charles Babbage lived in London.");
    page->setText(last);
    QTRY_VERIFY_WITH_TIMEOUT(!window.engine()->busy(), kWait);
    QVERIFY2(found.count() < 21, "superseded requests should be skipped, not computed");
    QString why;
    QVERIFY2(table_matches(page, expected(ner_, last, Aggregation::Simple), &why), qPrintable(why));
    const QString shown = page->highlightedText()->document()->toPlainText();  // the text, with type tags
    const EntityResult want = expected(ner_, last, Aggregation::Simple);
    for (size_t i = 0; i < want.entities.size(); ++i) {
      const auto [from, to] = page->entityDocumentRange(int(i));
      QCOMPARE(shown.mid(from, to - from), last.mid(want.entities[i].start, want.entities[i].end - want.entities[i].start));
    }
    QVERIFY(shown.startsWith(last.left(want.entities.empty() ? 7 : want.entities[0].start)));
    QVERIFY(!shown.contains(QStringLiteral("Person")));
  }

  void longTextIsReadInWindows() {
    MainWindow window;
    QVERIFY(load(window, ner_));
    EntitiesPage* page = window.entitiesPage();
    QString text;
    const QStringList words = {"Ada", "Lovelace", "met", "Charles", "Babbage", "in", "London", "on", "Monday", "."};
    for (int i = 0; i < 5000; ++i) text += words[i % words.size()] + QLatin1Char(' ');
    const auto started = std::chrono::steady_clock::now();
    page->setText(text);
    QTRY_VERIFY_WITH_TIMEOUT(!page->waiting() && page->shown(), kWait);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    qInfo("5,000 words: %d tokens, %d windows, %d entities, %.0f ms to show", page->tokenLabels()->rowCount(),
          page->shown()->result.windows, page->entities()->rowCount(), ms);
    const EntityResult want = expected(ner_, text, Aggregation::Simple);
    QVERIFY(want.windows > 1);
    QCOMPARE(page->tokenLabels()->rowCount(), int(want.tokens.size()));
    QString why;
    QVERIFY2(table_matches(page, want, &why), qPrintable(why));
    QVERIFY(page->summary().contains(QStringLiteral("%1 overlapping windows").arg(want.windows)));
    QVERIFY(!page->message()->isError());
  }

  void untrainedNoticeOnTheEntitiesTab() {
    MainWindow window;
    QVERIFY(load(window, make_token_model(dir_, "untrained-ner", true)));
    window.resize(1280, 800);
    window.show();
    window.tabs()->setCurrentWidget(window.entitiesPage());
    QCOMPARE(window.tabs()->tabText(window.tabs()->currentIndex()), QStringLiteral("Entities"));
    auto* notice = window.findChild<MessageLine*>(QStringLiteral("modelNotice"));
    QVERIFY(notice && notice->isVisible() && notice->text().contains(QStringLiteral("untrained")));
  }
};

QTEST_MAIN(TestGuiEntities)
#include "test_gui_entities.moc"
