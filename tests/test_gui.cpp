// The desktop app, driven offscreen: item models under QAbstractItemModelTester, and the window's pages with
// QSignalSpy/QTRY: type text -> predictions arrive and match the engine; outdated replies are dropped; a broken
// model folder shows an error and leaves the loaded model working; settings persist; closing mid-job is safe.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QPlainTextEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "attention_page.h"
#include "classify_page.h"
#include "fill_mask_page.h"
#include "fine_tune_page.h"
#include "item_models.h"
#include "main_window.h"
#include "model/random_model.h"
#include "model_page.h"
#include "page_support.h"
#include "qa_page.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"
#include "token_strip.h"
#include "tokenize_page.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 30000;  // ms; the models are tiny, but CI machines can be slow

fs::path make_model(const QTemporaryDir& dir, const std::string& name, std::vector<std::string> labels = {}, bool qa = false) {
  RandomModelSpec spec = test::small_bert_spec(7, 0.5f);  // large weights: predictions far from uniform, so ranking checks mean something
  spec.labels = std::move(labels);
  spec.question_answering = qa;
  const fs::path folder = fs::path(dir.path().toStdString()) / name;
  write_random_model(folder, spec);
  return folder;
}

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

// Loads `folder` into `window` and waits for it.
bool load(MainWindow& window, const fs::path& folder) {
  QSignalSpy loaded(window.engine(), &EngineClient::loaded);
  window.openModel(q(folder));
  return loaded.wait(kWait) || loaded.count() > 0;
}
}  // namespace

class TestGui : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path mlm_, classifier_, qa_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
    QSettings().clear();
    QVERIFY(dir_.isValid());
    mlm_ = make_model(dir_, "mlm");
    classifier_ = make_model(dir_, "classifier", {"negative", "positive"});
    qa_ = make_model(dir_, "qa", {}, true);
  }

  void tokenTableModelPassesTheTester() {
    Session session(mlm_, {BackendKind::Cpu});
    TokenTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QString text = QStringLiteral("Unaffable 🐈 cats"), pair = QStringLiteral("zzzqqq");
    model.setEncoding(shown_encoding(session.tokenizer(), session.tokenizer().encode(text.toStdString(), pair.toStdString())), text, pair);
    QVERIFY(model.rowCount() > 5);
    QCOMPARE(model.index(0, TokenTableModel::TokenText).data().toString(), QStringLiteral("[CLS]"));
    // Offsets are code points; the emoji is two UTF-16 units, so "cats" checks the conversion.
    bool found = false;
    for (int r = 0; r < model.rowCount(); ++r)
      if (model.index(r, TokenTableModel::TokenText).data().toString() == QStringLiteral("cats")) {
        QCOMPARE(model.index(r, TokenTableModel::Source).data().toString(), QStringLiteral("cats"));
        found = true;
      }
    QVERIFY(found);
    model.setEncoding({}, {}, {});
    QCOMPARE(model.rowCount(), 0);
  }

  void resultTableModelPassesTheTester() {
    ResultTableModel model({"Label", "Probability"}, 1);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setRows({{"a", 0.25}, {"b", 0.75}}, {1, 2});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.index(1, 1).data(Qt::EditRole).toDouble(), 0.75);
    QCOMPARE(model.index(1, 1).data().toString(), QStringLiteral("75.0 %"));
    QCOMPARE(model.index(1, 0).data(Qt::UserRole).toInt(), 2);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void fillMaskMatchesTheEngineAndEditsTheSentence() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    QCOMPARE(window.modelPage()->field("Layers"), QStringLiteral("2"));
    FillMaskPage* page = window.fillMaskPage();
    page->setText(QStringLiteral("the [MASK] sat on the mat ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 5, kWait);

    Session session(mlm_, {BackendKind::Cpu});
    const FillMaskResult expected = fill_mask(session.model(), session.tokenizer(), "the [MASK] sat on the mat .", 5);
    for (int r = 0; r < 5; ++r) {
      QCOMPARE(page->predictions()->index(r, 1).data().toString(), QString::fromStdString(expected.predictions[0][size_t(r)].token_str));
      QVERIFY(std::abs(page->predictions()->index(r, 2).data(Qt::EditRole).toDouble() - expected.predictions[0][size_t(r)].score) < 1e-6);
    }
    // Click a prediction: it replaces the mask.
    const QString best = page->predictions()->index(0, 1).data().toString();
    page->applyPrediction(0, 0);
    QVERIFY2(!page->text().contains("[MASK]"), qPrintable(page->text()));
    QVERIFY(page->text().contains(best.startsWith("##") ? best.mid(2) : best));
    // With no mask left, the page says what to do instead of showing stale predictions.
    QTRY_VERIFY_WITH_TIMEOUT(page->message()->isError() && page->predictions()->rowCount() == 0, kWait);
    QVERIFY(page->message()->text().contains("[MASK]"));
  }

  // RoBERTa: the playground asks with <mask>, tokens read as words (no byte-level "Ġ"), and no token-type column.
  void robertaUsesItsOwnMaskTokenAndReadableTokens() {
    QString why;
    const fs::path fixtures = test::oracle_fixtures(&why);
    if (fixtures.empty()) QSKIP(qPrintable(why));
    const fs::path roberta = fixtures / "roberta_mlm";
    if (!fs::exists(roberta / "config.json")) QSKIP("roberta_mlm fixture missing");
    MainWindow window;
    QVERIFY(load(window, roberta));
    QCOMPARE(window.modelPage()->field("Model type"), QStringLiteral("roberta"));
    FillMaskPage* page = window.fillMaskPage();
    QCOMPARE(page->maskText(), QStringLiteral("<mask>"));
    QCOMPARE(page->text(), sampleSentence(QStringLiteral("<mask>")));  // the sample sentence follows the model
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 5, kWait);
    page->applyPrediction(0, 0);
    QVERIFY2(!page->text().contains("<mask>") && !page->text().contains("  "), qPrintable(page->text()));
    page->setText(QStringLiteral("The cat sat on the mat."));
    QTRY_VERIFY_WITH_TIMEOUT(page->message()->isError(), kWait);  // no mask: the notice names <mask>
    QVERIFY(page->message()->text().contains("<mask>"));

    TokenizePage* tokens = window.tokenizePage();
    tokens->setText(QStringLiteral("Unaffable cats play chess."));
    QTRY_VERIFY_WITH_TIMEOUT(tokens->tokenModel()->rowCount() > 4, kWait);
    QTRY_VERIFY_WITH_TIMEOUT(tokens->summary().contains("word"), kWait);
    TokenTableModel* model = tokens->tokenModel();
    bool cats = false;  // stored as "Ġcats", it reads " cats"
    for (int r = 0; r < model->rowCount(); ++r) {
      const QString text = model->index(r, TokenTableModel::TokenText).data().toString();
      QVERIFY2(!text.contains(QChar(0x0120)), qPrintable(text));  // "Ġ"
      cats = cats || text == QStringLiteral(" cats");
    }
    QVERIFY(cats);
    // The word count agrees with the Word column (Hugging Face's word_ids): "don" and "'t" are two words.
    tokens->setText(QStringLiteral("I don't know."));
    QTRY_VERIFY_WITH_TIMEOUT(tokens->summary().startsWith(QStringLiteral("7 token")), kWait);  // <s> I don 't know . </s>
    QSet<QString> word_ids;
    for (int r = 0; r < model->rowCount(); ++r) {
      const QString word = model->index(r, TokenTableModel::Word).data().toString();
      if (!word.isEmpty()) word_ids.insert(word);
    }
    QCOMPARE(word_ids.size(), 5);
    QVERIFY2(tokens->summary().contains(QStringLiteral(" · 5 words")), qPrintable(tokens->summary()));
    // The Type column is hidden: RoBERTa takes no token type ids.
    QVERIFY(tokens->findChild<QTableView*>()->isColumnHidden(TokenTableModel::TypeId));
  }

  void clickingAWordMasksIt() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FillMaskPage* page = window.fillMaskPage();
    page->setText(QStringLiteral("the cat [MASK] on the mat ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 5, kWait);
    const auto* table = page->findChild<QTableView*>(QStringLiteral("predictionsTable"));
    QVERIFY(table->isColumnHidden(0));  // one mask: no Mask column to tell masks apart
    page->maskToken(2);  // "cat"
    QCOMPARE(page->text(), QStringLiteral("the [MASK] [MASK] on the mat ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 10, kWait);  // two masks x top 5
    QVERIFY(!table->isColumnHidden(0));
    QCOMPARE(page->predictions()->index(5, 0).data().toString(), QStringLiteral("mask 2"));
  }

  void outdatedRepliesAreDropped() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FillMaskPage* page = window.fillMaskPage();
    QSignalSpy filled(window.engine(), &EngineClient::filled);
    for (int i = 0; i < 20; ++i) page->setText(QStringLiteral("word%1 [MASK] here").arg(i));
    page->setText(QStringLiteral("the last [MASK] wins"));
    QTRY_VERIFY_WITH_TIMEOUT(!window.engine()->busy(), kWait);
    QVERIFY2(filled.count() < 21, "superseded requests should be skipped, not computed");
    QCOMPARE(page->predictions()->rowCount(), 5);
    QVERIFY(page->predictions()->index(0, 3).data().toString().startsWith(QStringLiteral("the last")));
  }

  void emptyTextAndMissingMaskAreExplained() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FillMaskPage* page = window.fillMaskPage();
    page->setText(QStringLiteral("no mask here"));
    QTRY_VERIFY_WITH_TIMEOUT(page->message()->isError(), kWait);
    QVERIFY(page->message()->text().contains("[MASK]"));
    page->setText(QString());
    QVERIFY(!page->message()->isError());
    QVERIFY(page->message()->text().contains("[MASK]"));
  }

  void brokenFolderShowsAnErrorAndKeepsTheModel() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    const fs::path broken = fs::path(dir_.path().toStdString()) / "broken";
    fs::create_directories(broken);
    std::ofstream(broken / "config.json") << "{ not json";
    QSignalSpy failed(window.engine(), &EngineClient::failed);
    window.openModel(q(broken));
    QTRY_VERIFY_WITH_TIMEOUT(window.banner()->isError(), kWait);
    QVERIFY2(window.banner()->text().contains("config.json"), qPrintable(window.banner()->text()));
    QVERIFY(window.banner()->text().contains("still loaded"));
    // A folder that does not exist.
    window.openModel(QStringLiteral("/no/such/model"));
    QTRY_VERIFY_WITH_TIMEOUT(window.banner()->text().contains("/no/such/model") && window.banner()->isError(), kWait);
    // The loaded model still answers.
    window.fillMaskPage()->setText(QStringLiteral("still [MASK] works"));
    QTRY_COMPARE_WITH_TIMEOUT(window.fillMaskPage()->predictions()->rowCount(), 5, kWait);
    QVERIFY(!window.recentModels().contains(q(broken)));
  }

  void tokensViewLinksTokensAndText() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    window.resize(1000, 700);
    window.show();
    window.tabs()->setCurrentWidget(window.tokenizePage());
    TokenizePage* page = window.tokenizePage();
    page->setText(QStringLiteral("Unaffable 🐈 cats"));
    QTRY_VERIFY_WITH_TIMEOUT(page->summary().contains("token"), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(page->tokenModel()->rowCount() > 3, kWait);
    const Encoding& e = page->tokenModel()->encoding();
    int cats = -1;
    for (size_t i = 0; i < e.size(); ++i)
      if (e.tokens[i].text == "cats") cats = int(i);
    QVERIFY(cats > 0);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QTest::mouseMove(page->strip(), page->strip()->chipRect(cats).center());
    QTRY_COMPARE(page->textEditor()->extraSelections().size(), 1);
    const QTextCursor c = page->textEditor()->extraSelections().first().cursor;
    QCOMPARE(c.selectedText(), QStringLiteral("cats"));
  }

  void attentionViewExports() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    AttentionPage* page = window.attentionPage();
    page->setText(QStringLiteral("the cat sat on the mat"));
    QTRY_VERIFY_WITH_TIMEOUT(!page->data().empty() && page->data().size() == 8, kWait);
    QCOMPARE(page->data().layers(), 2);
    QCOMPARE(page->data().heads(), 2);
    // Every row of a map is a probability distribution.
    const std::vector<float> m = page->data().map(1, -1);
    for (int r = 0; r < 8; ++r) {
      double sum = 0;
      for (int c = 0; c < 8; ++c) sum += m[size_t(r * 8 + c)];
      QVERIFY(std::abs(sum - 1.0) < 1e-4);
    }
    page->select(1, 0);
    const QString csv = dir_.filePath("attention.csv"), png = dir_.filePath("attention.png");
    QVERIFY(page->exportCsv(csv));
    QVERIFY(page->exportPng(png));
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 9);  // header + 8 tokens
    QVERIFY(lines[1].startsWith("\"[CLS]\","));
    QVERIFY(!QImage(png).isNull());
  }

  void longTextsWork() {
    MainWindow window;
    QVERIFY(load(window, qa_));
    QString words;
    for (int i = 0; i < 5000; ++i) words += QStringLiteral("word%1 ").arg(i % 97);
    // Attention: cut to the model's 512 positions, and said so.
    window.attentionPage()->setText(words);
    QTRY_COMPARE_WITH_TIMEOUT(window.attentionPage()->data().size(), 512, kWait);
    QVERIFY(window.attentionPage()->message()->text().contains("left out"));
    const QString png = dir_.filePath("long.png");
    QVERIFY(window.attentionPage()->exportPng(png));
    QVERIFY(QImage(png).width() >= 512);
    // QA: 5,000 words are read in overlapping windows.
    window.qaPage()->setInput(QStringLiteral("which word?"), words + QStringLiteral("The answer is here."));
    QTRY_VERIFY_WITH_TIMEOUT(window.qaPage()->message()->text().contains("windows"), kWait * 2);
    QVERIFY(window.qaPage()->answers()->rowCount() > 0);
  }

  void questionAnsweringHighlightsTheAnswer() {
    MainWindow window;
    QVERIFY(load(window, qa_));
    QaPage* page = window.qaPage();
    QAbstractItemModelTester tester(page->answers(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    const QString context = QStringLiteral("The cat sat on the mat by the door. The dog slept in the garden.");
    page->setInput(QStringLiteral("Where did the cat sit?"), context);
    QTRY_VERIFY_WITH_TIMEOUT(page->answers()->rowCount() > 0, kWait);
    Session session(qa_, {BackendKind::Cpu});
    QaOptions options;
    options.top_k = 5;
    const QaResult expected = answer_question(session.model(), session.tokenizer(), "Where did the cat sit?", context.toStdString(), options);
    QCOMPARE(page->answers()->rowCount(), int(expected.answers.size()));
    QCOMPARE(page->answers()->index(0, 0).data().toString(), QString::fromStdString(expected.answers[0].answer));
    QVERIFY(page->answerText().contains(QString::fromStdString(expected.answers[0].answer).toHtmlEscaped()));
    // A model without the head says so instead of failing.
    QVERIFY(load(window, mlm_));
    QVERIFY(page->message()->text().contains("no question-answering head"));
    QCOMPARE(page->answers()->rowCount(), 0);
  }

  void classificationShowsLabelProbabilities() {
    MainWindow window;
    QVERIFY(load(window, classifier_));
    ClassifyPage* page = window.classifyPage();
    page->setText(QStringLiteral("the food was good"));
    QTRY_COMPARE_WITH_TIMEOUT(page->labels()->rowCount(), 2, kWait);
    QCOMPARE(page->labels()->index(0, 0).data().toString(), QStringLiteral("negative"));
    const double sum = page->labels()->index(0, 1).data(Qt::EditRole).toDouble() + page->labels()->index(1, 1).data(Qt::EditRole).toDouble();
    QVERIFY(std::abs(sum - 1.0) < 1e-6);
    QCOMPARE(page->nextSentence()->rowCount(), 0);  // no NSP head
    // The fill-mask page explains that this model cannot fill masks.
    QVERIFY(window.fillMaskPage()->message()->text().contains("no masked-language-model head"));
  }

  QString writeReviews(const QString& name, int per_class, bool with_bad_row) {
    const QString path = dir_.filePath(name);
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write("\xEF\xBB\xBFreview,sentiment\r\n");  // a byte-order mark and CRLF, as spreadsheets write them
    const char* good[] = {"great", "lovely", "good", "wonderful", "nice"};
    const char* bad[] = {"awful", "terrible", "bad", "horrible", "poor"};
    for (int i = 0; i < per_class; ++i) {
      f.write(QStringLiteral("\"the food was %1, really %2\",positive\r\n").arg(good[i % 5], good[(i + 2) % 5]).toUtf8());
      f.write(QStringLiteral("\"the food was %1,\nreally \"\"%2\"\"\",negative\r\n").arg(bad[i % 5], bad[(i + 1) % 5]).toUtf8());
    }
    if (with_bad_row) f.write("one,field,too many\r\n");
    return path;
  }

  void fineTuneFromCsv() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(page->loadCsv(writeReviews("reviews.csv", 20, true)));
    QVERIFY2(page->dataSummary().contains("40 rows"), qPrintable(page->dataSummary()));
    QVERIFY(page->dataSummary().contains("comma-separated"));
    QVERIFY(page->dataSummary().contains("header row"));
    QVERIFY(page->dataSummary().contains("1 row skipped"));
    QVERIFY(page->dataSummary().contains("negative (20), positive (20)"));
    QCOMPARE(page->preview()->columnCount(), 2);
    QVERIFY(page->preview()->index(1, 0).data().toString().contains("\nreally \"")); // newline and quotes kept
    page->setColumns("review", "sentiment");
    page->setEpochs(3);
    page->setLearningRate(1e-3);
    QSignalSpy progress(page->job(), &TrainingJob::progress), epochs(page->job(), &TrainingJob::epochDone),
        finished(page->job(), &TrainingJob::finished);
    page->start();
    QVERIFY(finished.wait(kWait * 4));
    QCOMPARE(finished.first().at(0).toBool(), false);  // not cancelled
    QCOMPARE(finished.first().at(1).toString(), QString());
    QCOMPARE(epochs.count(), 3);
    QVERIFY(progress.count() >= 3);
    QCOMPARE(page->confusion()->rowCount(), 2);
    const auto last = epochs.last().at(0).value<EpochResult>();
    QCOMPARE(last.validation.count, 8);  // 20% of 40
    qInfo("toy sentiment: validation accuracy %.3f", last.validation.accuracy);
    // Try a sentence: fine-tuned vs before, probabilities per label.
    QSignalSpy tried(page->job(), &TrainingJob::tried);
    page->trySentence(QStringLiteral("the food was great"));
    QVERIFY(tried.wait(kWait));
    QTRY_COMPARE(page->tryResults()->rowCount(), 2);
    const double after = page->tryResults()->index(0, 1).data(Qt::EditRole).toDouble() + page->tryResults()->index(1, 1).data(Qt::EditRole).toDouble();
    QVERIFY(std::abs(after - 1.0) < 1e-6);
    // Both probability columns are equally wide, so a bar's length means the same in each (walkthrough finding).
    window.resize(1280, 860);
    window.tabs()->setCurrentWidget(page);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QHeaderView* tryHeader = page->tryTable()->horizontalHeader();
    QVERIFY(tryHeader->sectionSize(1) > 60);
    QVERIFY2(std::abs(tryHeader->sectionSize(1) - tryHeader->sectionSize(2)) <= 1,
             qPrintable(QStringLiteral("%1 vs %2").arg(tryHeader->sectionSize(1)).arg(tryHeader->sectionSize(2))));
    // Save, and the folder opens as a classifier with the CSV's labels.
    const QString out = dir_.filePath("fine-tuned-gui");
    QSignalSpy saved(page->job(), &TrainingJob::saved);
    page->saveTo(out);
    QVERIFY(saved.wait(kWait));
    QCOMPARE(saved.first().at(1).toString(), QString());
    Session session(out.toStdString(), {BackendKind::Cpu});
    QCOMPARE(session.config().id2label.at(1), std::string("positive"));
    const ClassifyResult r = classify(session.model(), session.tokenizer(), "the food was great");
    QVERIFY(std::abs(r.scores[1].score - page->tryResults()->index(1, 1).data(Qt::EditRole).toDouble()) < 1e-5);
  }

  void fineTuneCancelsAndReportsBadInput() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(!page->loadCsv(dir_.filePath("missing.csv")));
    QVERIFY(page->message()->isError());
    // An unterminated quote: skipped with its line number, or an error when asked to stop at bad rows.
    const QString broken = dir_.filePath("broken.csv");
    QFile f(broken);
    f.open(QIODevice::WriteOnly);
    f.write("text,label\ngood food,1\nbad food,0\n\"never closed,1\n");
    f.close();
    QVERIFY(page->loadCsv(broken));
    QVERIFY2(page->dataSummary().contains("1 row skipped"), qPrintable(page->dataSummary()));
    // Cancel: the run stops between steps and nothing is kept.
    QVERIFY(page->loadCsv(writeReviews("many.csv", 200, false)));
    page->setEpochs(50);
    QSignalSpy progress(page->job(), &TrainingJob::progress), finished(page->job(), &TrainingJob::finished);
    page->start();
    QVERIFY(progress.wait(kWait));
    page->cancel();
    QVERIFY(finished.wait(kWait));
    QCOMPARE(finished.first().at(0).toBool(), true);
    QVERIFY(!page->job()->hasModel());
    QVERIFY(page->message()->text().contains("cancelled"));
  }

  // A GPU that fails its self-check (lavapipe, treated as a GPU, with one kernel's output perturbed): auto runs on
  // the CPU and the status bar says why; the verdict is remembered in QSettings, so the next window says so too.
  void statusBarShowsWhyTheGpuIsNotUsed() {
    QSettings().remove("gpuSelfCheck");
    qputenv("BERTSCOPE_SELF_CHECK_SOFTWARE", "1");
    {
      qputenv("BERTSCOPE_FAULT_INJECT", "perturb:linear");
      MainWindow window;
      QVERIFY(window.selectBackendChoice(BackendKind::Auto, -1));
      const bool ok = load(window, mlm_);
      qunsetenv("BERTSCOPE_FAULT_INJECT");
      QVERIFY(ok);
      QVERIFY(window.modelPage()->field("Runs on").startsWith("CPU"));
      QVERIFY(!window.backendWarning()->isHidden());
      const QString text = window.backendWarning()->text();
      QVERIFY2(text.contains("failed bertscope's GPU self-check") && text.contains("linear"), qPrintable(text));
      QVERIFY(!QSettings().childGroups().filter("gpuSelfCheck").isEmpty());
    }
    MainWindow again;  // healthy now, but the failure is remembered: no second check, the same warning
    QVERIFY(again.selectBackendChoice(BackendKind::Auto, -1));
    QVERIFY(load(again, mlm_));
    qunsetenv("BERTSCOPE_SELF_CHECK_SOFTWARE");
    QVERIFY(again.modelPage()->field("Runs on").startsWith("CPU"));
    QVERIFY2(again.backendWarning()->text().contains("UTC"), qPrintable(again.backendWarning()->text()));
    QSettings().remove("gpuSelfCheck");
  }

  // The GPU fails mid-job (injected VK_ERROR_DEVICE_LOST / OUT_OF_DEVICE_MEMORY): the page shows the error, the
  // window asks whether to reload the model on the CPU, and after "Yes" the model works there.
  void gpuFailureAsksToReloadOnTheCpu_data() {
    QTest::addColumn<QByteArray>("fault");
    QTest::addColumn<QString>("code");
    QTest::newRow("device lost") << QByteArray("device_lost") << "VK_ERROR_DEVICE_LOST";
    QTest::newRow("out of memory") << QByteArray("oom") << "VK_ERROR_OUT_OF_DEVICE_MEMORY";
  }
  void gpuFailureAsksToReloadOnTheCpu() {
    QFETCH(QByteArray, fault);
    QFETCH(QString, code);
    MainWindow window;
    if (!window.selectBackendChoice(BackendKind::Vulkan, -1)) QSKIP("no Vulkan device");
    qputenv("BERTSCOPE_FAULT_INJECT", fault);
    const bool ok = load(window, mlm_);
    qunsetenv("BERTSCOPE_FAULT_INJECT");
    QVERIFY(ok);
    QVERIFY(window.modelPage()->field("Runs on").startsWith("Vulkan"));
    FillMaskPage* page = window.fillMaskPage();
    page->setText(QStringLiteral("the [MASK] sat on the mat ."));
    QTRY_VERIFY_WITH_TIMEOUT(window.deviceFailureQuestion() != nullptr, kWait);
    QTRY_VERIFY2_WITH_TIMEOUT(page->message()->isError() && page->message()->text().contains(code),
                              qPrintable(page->message()->text()), kWait);
    QMessageBox* question = window.deviceFailureQuestion();
    QVERIFY2(question->text().contains(code) && question->text().contains("Reload the model on the CPU?"), qPrintable(question->text()));
    QSignalSpy loaded(window.engine(), &EngineClient::loaded);
    question->button(QMessageBox::Yes)->click();
    QVERIFY(loaded.wait(kWait));
    QVERIFY(window.modelPage()->field("Runs on").startsWith("CPU"));
    page->setText(QStringLiteral("the [MASK] sat on the mat ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 5, kWait);
    QSettings().setValue("backend/kind", "auto");
  }

  void settingsPersist() {
    {
      MainWindow window;
      QVERIFY(load(window, classifier_));
      QVERIFY(window.selectBackendChoice(BackendKind::Cpu, -1));
      QSignalSpy loaded(window.engine(), &EngineClient::loaded);
      window.setBackend({BackendKind::Cpu, -1});  // reloads on the CPU
      QVERIFY(loaded.wait(kWait));
      QVERIFY(window.modelPage()->field("Runs on").startsWith("CPU"));
      window.close();
    }
    MainWindow again;
    QCOMPARE(again.recentModels().value(0), q(classifier_));
    QCOMPARE(QSettings().value("backend/kind").toString(), QStringLiteral("cpu"));
  }

  void closingWhileWorkRunsIsSafe() {
    for (int i = 0; i < 3; ++i) {
      auto window = std::make_unique<MainWindow>();
      window->openModel(q(mlm_));
      window->fillMaskPage()->setText(QStringLiteral("a [MASK] b"));
      QTest::qWait(i * 20);
      window.reset();  // waits for the job in flight, drops the rest
    }
  }
};

QTEST_MAIN(TestGui)
#include "test_gui.moc"
