// What a new user hit in the app (issue 13), one test per finding, driven offscreen: fill-mask chips that follow
// the text; a fine-tune view that fits 1024 x 700 and scrolls below it; CSV errors that name the real reason, with
// the skipped rows in view; header rows told by the columns' types and a question before training on data too
// small to learn from; NaN outputs said in words (GUI and CLI) and bars that stay in their cells; random-model
// paths; an error banner that can be closed; readable charts; a one-sentence classify sample; and the menu bar,
// the question before closing mid-run, untrained notices and the highlighted word in fill-mask's sentences.
// The tests use the pages' widgets through findChild where they can, so they also build against older versions.
#include <QAbstractButton>
#include <QChart>
#include <QChartView>
#include <QFile>
#include <QFileInfo>
#include <QGroupBox>
#include <QImage>
#include <QLineEdit>
#include <QLineSeries>
#include <QMenuBar>
#include <QMessageBox>
#include <QTableWidget>
#include <QPainter>
#include <QPlainTextEdit>
#include <QProcess>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>
#include <QValueAxis>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "attention_page.h"
#include "classify_page.h"
#include "entities_page.h"
#include "fill_mask_page.h"
#include "fine_tune_page.h"
#include "item_models.h"
#include "main_window.h"
#include "model/random_model.h"
#include "model/safetensors.h"
#include "model_page.h"
#include "page_support.h"
#include "qa_page.h"
#include "saliency_panel.h"
#include "session.h"
#include "test_support.h"
#include "token_strip.h"
#include "tokenize_page.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 30000;  // ms

fs::path make_model(const QTemporaryDir& dir, const std::string& name, std::vector<std::string> labels = {},
                    bool untrained = false) {
  RandomModelSpec spec = test::small_bert_spec(7, 0.5f);
  spec.labels = std::move(labels);
  spec.untrained_label = untrained;  // config.json says so, as the untrained default model's does
  const fs::path folder = fs::path(dir.path().toStdString()) / name;
  write_random_model(folder, spec);
  return folder;
}

// Rewrites `folder`'s weights with the first value of every tensor whose name contains `tensor` set to NaN.
void poison(const fs::path& folder, const std::string& tensor) {
  std::vector<StWriteTensor> tensors;
  std::vector<std::vector<float>> values;
  {
    SafetensorsFile file(folder / "model.safetensors");
    for (const auto& [name, info] : file.tensors()) {
      std::vector<float> buffer;
      const auto v = file.read_f32(name, buffer);
      values.emplace_back(v.begin(), v.end());
      if (name.find(tensor) != std::string::npos) values.back()[0] = NAN;
    }
    size_t i = 0;
    for (const auto& [name, info] : file.tensors()) tensors.push_back({name, info.shape, values[i++]});
    write_safetensors(folder / "poisoned.safetensors", tensors, StDType::F32);
  }
  fs::rename(folder / "poisoned.safetensors", folder / "model.safetensors");
}

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

bool load(MainWindow& window, const fs::path& folder) {
  QSignalSpy loaded(window.engine(), &EngineClient::loaded);
  window.openModel(q(folder));
  return loaded.wait(kWait) || loaded.count() > 0;
}

void show(MainWindow& window, QWidget* tab, QSize size = {1200, 800}) {
  window.resize(size);
  window.show();
  window.tabs()->setCurrentWidget(tab);
  QVERIFY(QTest::qWaitForWindowExposed(&window));
}

// The readable texts of `text`'s tokens, as the fill-mask chips should show them.
QStringList tokens_of(const fs::path& model, const QString& text) {
  Session session(model, {BackendKind::Cpu});
  const ShownEncoding shown = shown_encoding(session.tokenizer(), session.tokenizer().encode(text.toStdString()));
  QStringList out;
  for (const Token& t : shown.encoding.tokens) out << QString::fromStdString(t.text);
  return out;
}

int chip_count(TokenStrip* strip) {
  int n = 0;
  while (strip->chipRect(n).isValid()) ++n;
  return n;
}

void click_chip(TokenStrip* strip, int token) {
  QTest::mouseClick(strip, Qt::LeftButton, {}, strip->chipRect(token).center());
}

QString write_file(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
  const QString path = dir.filePath(name);
  QFile f(path);
  f.open(QIODevice::WriteOnly);
  f.write(bytes);
  return path;
}

// `per_class` reviews of each sentiment under a header (enough to train without warnings).
QString reviews(const QTemporaryDir& dir, const QString& name, int per_class) {
  QByteArray csv = "review,sentiment\n";
  for (int i = 0; i < per_class; ++i)
    csv += QStringLiteral("the food was good %1,positive\nthe food was bad %1,negative\n").arg(i).toUtf8();
  return write_file(dir, name, csv);
}

QMessageBox* open_question(QWidget* owner, const char* name) {
  for (QMessageBox* box : owner->findChildren<QMessageBox*>(QString::fromLatin1(name)))
    if (box->isVisible()) return box;
  return nullptr;
}

// The x axes are labelled "%d": whole numbers.
QString x_tick_label(double value) { return QString::number(std::llround(value)); }

// The x axis's tick values: TicksDynamic from the anchor by the interval, or TicksFixed evenly.
QList<double> x_ticks(const QValueAxis* axis) {
  QList<double> ticks;
  if (axis->tickType() == QValueAxis::TicksDynamic) {
    for (double v = axis->tickAnchor(); v <= axis->max() + 1e-9; v += axis->tickInterval())
      if (v >= axis->min() - 1e-9) ticks << v;
  } else {
    for (int i = 0; i < axis->tickCount(); ++i)
      ticks << axis->min() + (axis->max() - axis->min()) * i / std::max(1, axis->tickCount() - 1);
  }
  return ticks;
}
}  // namespace

class TestGuiIssue13 : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path mlm_, classifier_;

 private:
  // Start with no unsaved model to lose: no question, the run starts; then it is cancelled and waited for.
  void startsWithoutAsking(FineTunePage* page, QSignalSpy& finished) {
    page->start();
    QVERIFY(!open_question(page, "discardUnsavedQuestion"));
    QVERIFY(page->job()->running());
    page->cancel();
    QVERIFY(finished.wait(kWait));
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    mlm_ = make_model(dir_, "mlm");
    classifier_ = make_model(dir_, "classifier", {"negative", "positive"});
  }

  // 1. The chips always show the current text's tokens; clicking a word masks it, clicking a mask restores it.
  void fillMaskChipsFollowTheText() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FillMaskPage* page = window.fillMaskPage();
    show(window, page);
    TokenStrip* strip = page->strip();  // the chips (the saliency panel has a strip of its own)
    page->setText(QStringLiteral("Text with a [MASK] in it."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 5, kWait);
    // A text without a mask: no predictions, but its own chips (not the old sentence's).
    const QString plain = QStringLiteral("Now a sentence without any mask at all.");
    page->setText(plain);
    const QStringList expected = tokens_of(mlm_, plain);
    QTRY_VERIFY_WITH_TIMEOUT(page->message()->isError(), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(chip_count(strip), int(expected.size()), kWait);
    // ... and clicking one masks its word.
    click_chip(strip, int(expected.indexOf("sentence")));
    QCOMPARE(page->text(), QStringLiteral("Now a [MASK] without any mask at all."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 5, kWait);
    // Clicking the mask puts the word back.
    const int mask = int(tokens_of(mlm_, page->text()).indexOf("[MASK]"));
    QTRY_COMPARE_WITH_TIMEOUT(chip_count(strip), int(tokens_of(mlm_, page->text()).size()), kWait);
    click_chip(strip, mask);
    QCOMPARE(page->text(), plain);
    // After the last mask is filled by a prediction, the chips are the filled sentence's, and they still work.
    QTRY_COMPARE_WITH_TIMEOUT(chip_count(strip), int(expected.size()), kWait);
    QTRY_VERIFY_WITH_TIMEOUT(page->message()->isError(), kWait);
    click_chip(strip, int(expected.indexOf("mask")));
    QCOMPARE(page->text(), QStringLiteral("Now a sentence without any [MASK] at all."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 5, kWait);
    page->applyPrediction(0, 0);
    const QString filled = page->text();
    QVERIFY(!filled.contains("[MASK]"));
    QTRY_VERIFY_WITH_TIMEOUT(page->message()->isError(), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(chip_count(strip), int(tokens_of(mlm_, filled).size()), kWait);
    click_chip(strip, 1);  // "now"
    QCOMPARE(page->text(), QString(filled).replace(0, 3, QStringLiteral("[MASK]")));
  }

  // 2. Start does not widen the window; the view fits 1024 x 700 and scrolls below it instead of squeezing.
  void fineTuneFitsAndScrolls() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    show(window, page, {1024, 700});
    QVERIFY(page->loadCsv(reviews(dir_, "fit.csv", 30)));
    auto* scroll = page->findChild<QScrollArea*>();
    QVERIFY2(scroll, "the fine-tune view should scroll in small windows");
    const QList<QChartView*> charts = page->findChildren<QChartView*>();
    QCOMPARE(charts.size(), 2);
    auto settle = [] { for (int i = 0; i < 5; ++i) QCoreApplication::processEvents(); };
    settle();
    QCOMPARE(window.size(), QSize(1024, 700));
    QVERIFY(!scroll->horizontalScrollBar()->isVisible() && !scroll->verticalScrollBar()->isVisible());
    for (QGroupBox* box : page->findChildren<QGroupBox*>())  // nothing cut off
      QVERIFY2(box->width() >= box->minimumSizeHint().width(), qPrintable(box->title()));
    for (QChartView* chart : charts) QVERIFY(chart->width() >= 200 && chart->height() >= 190);
    // What a long run reports (as Start does): the window keeps its size.
    TrainProgress p;
    p.step = 123456;
    p.total_steps = 999999;
    p.epoch = 37;
    p.epochs = 200;
    p.loss = p.step_loss = 0.6931471;
    p.learning_rate = 4.99999e-5;
    p.sentences_per_second = 1234.5;
    p.eta_seconds = 987654;
    emit page->job()->progress(p);
    settle();
    QCOMPARE(window.size(), QSize(1024, 700));
    QVERIFY(!scroll->horizontalScrollBar()->isVisible());
    // Smaller windows: scroll bars, and the charts keep their size (no "…" axes, nothing drawn over anything).
    for (QSize size : {QSize(800, 600), QSize(500, 350)}) {
      window.resize(size);
      settle();
      QVERIFY(scroll->horizontalScrollBar()->isVisible() || scroll->verticalScrollBar()->isVisible());
      for (QChartView* chart : charts) QVERIFY(chart->width() >= 200 && chart->height() >= 190);
      const QList<QGroupBox*> boxes = page->findChildren<QGroupBox*>();
      for (QGroupBox* a : boxes)
        for (QGroupBox* b : boxes)
          if (a != b && a->parentWidget() == b->parentWidget()) QVERIFY(!a->geometry().intersects(b->geometry()));
    }
  }

  // 3. CSV: the real reason in words, not "the text and the label must be different columns"; binary and
  //    non-UTF-8 files refused whole; skipped rows listed with their lines in view.
  void csvErrorsSayTheRealReason() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    show(window, page);
    // The first row's quote is never closed: that row is skipped, said in view, and the rest is usable.
    QVERIFY(page->loadCsv(write_file(dir_, "quote.csv", "\"text,label\ngood food,1\nbad food,0\n")));
    QString said = page->message()->text();
    QVERIFY2(!page->message()->isError(), qPrintable(said));
    QVERIFY2(page->dataSummary().contains("2 labels"), qPrintable(page->dataSummary()));
    auto* skipped = page->findChild<QPlainTextEdit*>(QStringLiteral("skippedRows"));
    QVERIFY2(skipped, "skipped rows should be listed in view, not in a tooltip");
    QVERIFY2(skipped->isVisible() && skipped->toPlainText().contains("line 1: a quoted field is never closed"),
             qPrintable(skipped->toPlainText()));
    // One column only: said so.
    QVERIFY(page->loadCsv(write_file(dir_, "one-column.csv", "good food\nbad food\nfine place\n")));
    said = page->message()->text();
    QVERIFY2(page->message()->isError() && said.contains("Only one column"), qPrintable(said));
    page->start();  // Start on it says the same, not a vaguer "choose a file" (walkthrough finding)
    QCOMPARE(page->message()->text(), said);
    // Rows that cannot be read: listed with line numbers and reasons.
    QVERIFY(page->loadCsv(write_file(dir_, "bad-rows.csv",
                                     "text,label\ngood food,1\n\"bad food,0\nfine place,1\nawful,0,extra\nnice,1\nugly,0\n")));
    QVERIFY(skipped->isVisible());
    QVERIFY2(skipped->toPlainText().contains("line 3: a quoted field is never closed"), qPrintable(skipped->toPlainText()));
    QVERIFY(skipped->toPlainText().contains("line 5: 3 fields where 2 were expected"));
    // Every row bad but one: the message names the skipped rows rather than the columns.
    QVERIFY(page->loadCsv(write_file(dir_, "all-bad.csv", "text,label\n\"a,1\n\"b,0\n\"c,1\nonly,1\n")));
    said = page->message()->text();
    QVERIFY2(page->message()->isError() && !said.contains("different columns") && said.contains("listed below"), qPrintable(said));
    // Binary and non-UTF-8 files: one error for the file.
    QVERIFY(page->loadCsv(reviews(dir_, "good-before-binary.csv", 10)));
    QTableWidget* labelNames = page->findChild<QTableWidget*>(QStringLiteral("labelNames"));
    QVERIFY(labelNames && !labelNames->isHidden());  // the labels of the file read last
    QVERIFY(!page->loadCsv(write_file(dir_, "binary.csv", QByteArray("a,1\n\0\0\x01\x02,2\n", 12))));
    QVERIFY2(page->message()->isError() && page->message()->text().contains("binary"), qPrintable(page->message()->text()));
    QVERIFY2(labelNames->isHidden(), "a file that failed shows no labels (those of the file before were stale)");
    QVERIFY(!page->loadCsv(write_file(dir_, "latin1.csv", "text,label\ncaf\xe9,1\nbad,0\n")));
    QVERIFY2(page->message()->text().contains("not valid UTF-8"), qPrintable(page->message()->text()));
    QVERIFY(!skipped->isVisible());
  }

  // 4. "text,label" over three short rows is a header (a name above numbers); training on so little asks first.
  void headerByColumnTypesAndWarningsBeforeTraining() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    show(window, page);
    QVERIFY(page->loadCsv(write_file(dir_, "tiny.csv", "text,label\ngood food,1\nbad food,0\nfine place,1\n")));
    QVERIFY2(page->dataSummary().contains("3 rows") && !page->dataSummary().contains("no header"), qPrintable(page->dataSummary()));
    QVERIFY2(page->dataSummary().contains("2 labels: 0 (1), 1 (2)"), qPrintable(page->dataSummary()));
    // Words as labels, too: "label" never occurs below the first row.
    QVERIFY(page->loadCsv(write_file(dir_, "tiny-words.csv", "text,label\ngood food,positive\nbad food,negative\nfine place,positive\n")));
    QVERIFY2(page->dataSummary().contains("3 rows") && page->dataSummary().contains("2 labels"), qPrintable(page->dataSummary()));
    // Without a header, the first row stays data.
    QVERIFY(page->loadCsv(write_file(dir_, "no-header.csv", "good food,1\nbad food,0\nfine place,1\n")));
    QVERIFY2(page->dataSummary().contains("3 rows") && page->dataSummary().contains("no header"), qPrintable(page->dataSummary()));

    // Start on the tiny file: a question lists what is wrong; "No" starts nothing, "Yes" trains.
    QVERIFY(page->loadCsv(dir_.filePath("tiny.csv")));
    QSignalSpy progress(page->job(), &TrainingJob::progress);
    page->start();
    QMessageBox* question = open_question(page, "trainAnywayQuestion");
    if (!question) question = page->findChild<QMessageBox*>();
    QVERIFY2(question, "training on 3 sentences should ask first");
    QVERIFY2(!page->job()->running(), "nothing starts before the answer");
    const QString text = question->text();
    QVERIFY2(text.contains("Only 3 sentences to train on"), qPrintable(text));
    QVERIFY2(text.contains("The label \"0\" has only one example (line 3)"), qPrintable(text));
    QVERIFY2(text.contains("No sentence is held out for validation"), qPrintable(text));
    question->button(QMessageBox::No)->click();
    QTest::qWait(100);
    QVERIFY(!page->job()->running() && progress.isEmpty());
    // A label missing from the validation split is said too; "Yes" trains anyway.
    QByteArray csv = "text,label\n";
    for (int i = 0; i < 30; ++i) csv += QStringLiteral("good food %1,pos\nbad food %1,neg\n").arg(i).toUtf8();
    csv += "so so,meh\nnot sure,meh\n";
    QVERIFY(page->loadCsv(write_file(dir_, "missing-class.csv", csv)));
    page->setEpochs(1);
    page->start();
    question = open_question(page, "trainAnywayQuestion");
    QVERIFY(question);
    QVERIFY2(question->text().contains("No validation sentence has the label meh"), qPrintable(question->text()));
    QSignalSpy finished(page->job(), &TrainingJob::finished);
    question->button(QMessageBox::Yes)->click();
    QVERIFY(finished.wait(kWait * 2));
    QCOMPARE(finished.first().at(1).toString(), QString());
    // The model just fine-tuned is not saved: a new run, which would replace it, asks first; Cancel keeps it.
    QVERIFY(page->loadCsv(reviews(dir_, "enough.csv", 30)));
    finished.clear();
    page->start();
    question = open_question(page, "discardUnsavedQuestion");
    QVERIFY2(question, "starting again should ask before discarding the unsaved model");
    QVERIFY(!page->job()->running() && page->job()->hasModel());
    question->button(QMessageBox::Cancel)->click();
    QTest::qWait(100);
    QVERIFY(!page->job()->running() && page->job()->hasModel());
    QVERIFY2(page->message()->text().contains("Not started"), qPrintable(page->message()->text()));
    // Discard: the run starts, with no question about this data (enough of every label).
    page->start();
    question = open_question(page, "discardUnsavedQuestion");
    QVERIFY(question);
    question->button(QMessageBox::Discard)->click();
    QTRY_VERIFY_WITH_TIMEOUT(page->job()->running(), kWait);
    QVERIFY(!open_question(page, "trainAnywayQuestion"));
    page->cancel();
    QVERIFY(finished.wait(kWait));
    // Cancelled: no model is left to lose, so Start asks nothing.
    startsWithoutAsking(page, finished);
  }

  // A saved model is safe: after Save, Start does not ask.
  void startingAgainAfterSavingAsksNothing() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    show(window, page);
    QVERIFY(page->loadCsv(reviews(dir_, "saved-first.csv", 30)));
    page->setEpochs(1);
    QSignalSpy finished(page->job(), &TrainingJob::finished);
    page->start();
    QVERIFY(finished.wait(kWait * 2));
    QVERIFY(page->job()->hasModel());
    QSignalSpy saved(page->job(), &TrainingJob::saved);
    page->saveTo(dir_.filePath("saved-first-model"));
    QVERIFY(saved.wait(kWait));
    QCOMPARE(saved.first().at(1).toString(), QString());
    finished.clear();
    startsWithoutAsking(page, finished);
  }

  // 5a. A model with a NaN weight: the page says the model produces NaN; no "nan %" anywhere.
  void nanOutputsAreSaidInWords() {
    const fs::path nan = make_model(dir_, "nan-mlm");
    poison(nan, "embeddings.LayerNorm.weight");
    MainWindow window;
    QVERIFY(load(window, nan));
    FillMaskPage* page = window.fillMaskPage();
    page->setText(QStringLiteral("the [MASK] sat on the mat ."));
    QTRY_VERIFY_WITH_TIMEOUT(page->message()->isError(), kWait);
    QVERIFY2(page->message()->text().contains("The model produces NaN"), qPrintable(page->message()->text()));
    QCOMPARE(page->predictions()->rowCount(), 0);
    QVERIFY(!percent(std::nan("")).contains("nan"));
    QVERIFY(!percent(INFINITY).contains("inf"));
  }

  // 5b. A probability bar paints inside its cell whatever the value (NaN once painted over the next columns).
  void probabilityBarsStayInTheirCells() {
    ResultTableModel model({"Label", "Probability"}, 1);
    model.setRows({{"nan", std::nan("")}, {"inf", double(INFINITY)}, {"-inf", -double(INFINITY)}, {"big", 7.0}, {"neg", -3.0}});
    QTableView view;
    view.setModel(&model);
    ProbabilityDelegate delegate;
    for (int row = 0; row < model.rowCount(); ++row) {
      QImage image(400, 40, QImage::Format_ARGB32);
      image.fill(Qt::white);
      const QRect cell(150, 10, 100, 20);
      {
        QPainter painter(&image);
        QStyleOptionViewItem option;
        option.initFrom(&view);
        option.rect = cell;
        option.state &= ~QStyle::State_Selected;
        delegate.paint(&painter, option, model.index(row, 1));
      }
      for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
          if (!cell.contains(x, y) && image.pixel(x, y) != qRgb(255, 255, 255))
            QFAIL(qPrintable(QStringLiteral("row %1 painted (%2, %3), outside its cell").arg(model.index(row, 0).data().toString()).arg(x).arg(y)));
    }
    // A full bar leaves the number readable: no bar colour (blue) left of where the number ends (walkthrough finding:
    // "6.6 %" was half covered), and the bar fills the rest of the cell.
    model.setRows({{"all", 1.0}});
    QImage image(300, 30, QImage::Format_ARGB32);
    image.fill(Qt::white);
    QStyleOptionViewItem option;
    option.initFrom(&view);
    option.rect = QRect(0, 0, 300, 30);
    {
      QPainter painter(&image);
      delegate.paint(&painter, option, model.index(0, 1));
    }
    const int numberEnd = 3 + option.fontMetrics.horizontalAdvance(QStringLiteral("100.0 % "));
    auto blue = [&](int x) { const QRgb c = image.pixel(x, 15); return qBlue(c) > qRed(c) + 40; };
    for (int x = 0; x < numberEnd; ++x) QVERIFY2(!blue(x), qPrintable(QStringLiteral("bar under the number at x = %1").arg(x)));
    for (int x = numberEnd + 8; x < 290; ++x) QVERIFY2(blue(x), qPrintable(QStringLiteral("no bar at x = %1").arg(x)));
  }

  // 5c. The CLI: NaN outputs are an error (exit 1, in words), never "score": null or a silent accuracy.
  void cliSaysNanAndFails() {
    const fs::path nan_mlm = make_model(dir_, "cli-nan-mlm");
    poison(nan_mlm, "embeddings.LayerNorm.weight");
    const fs::path nan_head = make_model(dir_, "cli-nan-head", {"negative", "positive"});
    poison(nan_head, "classifier.weight");
    const QString csv = write_file(dir_, "eval.csv", "text,label\ngood food,positive\nbad food,negative\nfine,positive\n");
    const QList<QStringList> commands = {
        {"fill-mask", q(nan_mlm), "--text", "the [MASK] sat", "--backend", "cpu"},
        {"classify", q(nan_head), "--text", "good food", "--backend", "cpu"},
        {"evaluate", q(nan_head), "--csv", csv, "--text-column", "1", "--label-column", "2", "--backend", "cpu"}};
    for (const QStringList& args : commands) {
      QProcess p;
      p.start(BERTSCOPE_CLI, args);
      QVERIFY(p.waitForFinished(60000));
      const QString out = QString::fromUtf8(p.readAllStandardOutput()), err = QString::fromUtf8(p.readAllStandardError());
      QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() != 0, qPrintable(args.first() + ": " + out));
      QVERIFY2(!out.contains("null"), qPrintable(out));
      QVERIFY2(err.contains("the model produces NaN"), qPrintable(err));
    }
  }

  // 6. bertscope-cli random-model with a relative name without "./" and with a trailing slash.
  void cliRandomModelTakesRelativeAndTrailingSlashPaths() {
    QTemporaryDir work;
    for (const QString& name : {QStringLiteral("rand-qa"), QStringLiteral("rand-qa3/"), QStringLiteral("sub/rand-cls")}) {
      QProcess p;
      p.setWorkingDirectory(work.path());
      p.start(BERTSCOPE_CLI, {"random-model", name, "--head", name.contains("cls") ? "classifier" : "qa"});
      QVERIFY(p.waitForFinished(60000));
      QVERIFY2(p.exitCode() == 0, qPrintable(name + ": " + QString::fromUtf8(p.readAllStandardError())));
      QVERIFY2(QFile::exists(work.filePath(name + "/model.safetensors")), qPrintable(name));
    }
    for (const QString& entry : QDir(work.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot))
      QVERIFY2(!entry.contains("partial") && !entry.startsWith('.'), qPrintable(entry));  // nothing left behind
  }

  // 7. The error banner has a close button, and the next successful load clears it.
  void errorBannerClosesAndClears() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    show(window, window.fillMaskPage());
    window.openModel(QStringLiteral("/no/such/model"));
    QTRY_VERIFY_WITH_TIMEOUT(window.banner()->isError(), kWait);
    QVERIFY(window.banner()->isVisible());
    auto* close = window.banner()->findChild<QToolButton*>();
    QVERIFY2(close && close->isVisible(), "the banner should have a close button");
    close->click();
    QVERIFY(!window.banner()->isVisible());
    window.openModel(QStringLiteral("/no/such/model"));
    QTRY_VERIFY_WITH_TIMEOUT(window.banner()->isError() && window.banner()->isVisible(), kWait);
    QVERIFY(load(window, classifier_));
    QVERIFY(!window.banner()->isVisible() && !window.banner()->isError());
    // A model that finished loading just before a newer (failing) request is still shown everywhere.
    QSignalSpy loaded(window.engine(), &EngineClient::loaded), failed(window.engine(), &EngineClient::failed);
    window.openModel(q(mlm_));
    QTest::qWait(1);
    window.openModel(QStringLiteral("/no/such/model"));
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), kWait);
    if (!loaded.isEmpty())  // the first load had started: the pages show it, the banner speaks of the second
    {
      QCOMPARE(window.modelPage()->field("Folder"), q(mlm_));
      QCOMPARE(window.modelPage()->field("Name"), QFileInfo(q(mlm_)).fileName());
    }
    QVERIFY(window.banner()->isError());
  }

  // 8. Charts: whole-number ticks that fit (no "0 0 0 0 1", no "1…"), a legend that is not cut, and accuracy and F1
  //    both visible where they are equal.
  void chartsReadWell() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    show(window, page, {1024, 700});
    const QList<QChartView*> views = page->findChildren<QChartView*>();
    QCOMPARE(views.size(), 2);
    auto check_axes = [&](const char* when) {
      for (QChartView* view : views) {
        const auto* x = qobject_cast<QValueAxis*>(view->chart()->axes(Qt::Horizontal).first());
        const QList<double> ticks = x_ticks(x);
        QStringList labels;
        for (double t : ticks) {
          QVERIFY2(std::abs(t - std::round(t)) < 1e-9, qPrintable(QStringLiteral("%1: tick %2").arg(when).arg(t)));
          labels << x_tick_label(t);
        }
        QCOMPARE(QSet<QString>(labels.begin(), labels.end()).size(), labels.size());  // "0 0 0 0 1" repeats
        // Labels narrower than the space between ticks, else Qt elides them to "1…".
        const QFontMetrics metrics(x->labelsFont());
        const double spacing = view->chart()->plotArea().width() / std::max(1.0, (x->max() - x->min())) *
                               (ticks.size() > 1 ? ticks[1] - ticks[0] : 1);
        for (const QString& label : labels)
          QVERIFY2(metrics.horizontalAdvance(label) < spacing, qPrintable(QStringLiteral("%1: %2 in %3 px").arg(when, label).arg(spacing)));
      }
    };
    auto settle = [] { for (int i = 0; i < 5; ++i) QCoreApplication::processEvents(); };
    settle();
    check_axes("empty");
    for (int step = 1; step <= 40; ++step) {  // a long run's loss curve
      TrainProgress p;
      p.step = step * 250;
      p.total_steps = 10000;
      p.epoch = 1 + step / 10;
      p.epochs = 5;
      p.step_loss = 1.0 / step;
      emit page->job()->progress(p);
    }
    settle();
    check_axes("training");
    // Legends show whole names.
    for (QChartView* view : views) {
      QLegend* legend = view->chart()->legend();
      if (!legend->isVisible()) continue;
      for (QAbstractSeries* series : view->chart()->series())
        QVERIFY2(QFontMetrics(legend->font()).horizontalAdvance(series->name()) + 30 < view->chart()->plotArea().width(),
                 qPrintable(series->name()));
    }
    for (QAbstractSeries* series : views[0]->chart()->series())
      QVERIFY2(views[0]->chart()->legend()->isVisible() == false || series->name().size() < 12, qPrintable(series->name()));
    // Accuracy and F1 on top of each other are both visible: different line styles or marker sizes, with markers.
    QList<QLineSeries*> validation;
    for (QChartView* view : views)
      for (QAbstractSeries* s : view->chart()->series())
        if (s->name() == "accuracy" || s->name() == "F1") validation << qobject_cast<QLineSeries*>(s);
    QCOMPARE(validation.size(), 2);
    QVERIFY(validation[0]->pointsVisible() && validation[1]->pointsVisible());
    QVERIFY(validation[0]->pen().style() != validation[1]->pen().style() ||
            validation[0]->markerSize() != validation[1]->markerSize());
  }

  // 9. Classify opens with one sentence, so the first prediction is not a sentence pair.
  void classifyOpensWithOneSentence() {
    MainWindow window;
    auto* pair = window.classifyPage()->findChild<QLineEdit*>();
    QVERIFY(pair);
    QCOMPARE(pair->text(), QString());
    QVERIFY(load(window, classifier_));
    QTRY_COMPARE_WITH_TIMEOUT(window.classifyPage()->labels()->rowCount(), 2, kWait);
  }

  // Missing 1: a menu bar with File (Open model…, Quit), View and Help; Ctrl+Q quits, F1 opens the help.
  void menuBarWithStandardShortcuts() {
    MainWindow window;
    show(window, window.modelPage());
    QStringList menus;
    for (QAction* a : window.menuBar()->actions()) menus << a->text().remove('&');
    QCOMPARE(menus, (QStringList{"File", "View", "Help"}));
    QStringList file;
    for (QAction* a : window.menuBar()->actions().first()->menu()->actions()) file << a->text().remove('&');
    QVERIFY2(file.contains("Open model folder…") && file.contains("Quit"), qPrintable(file.join(", ")));
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key_F1);
    QTRY_VERIFY(window.findChild<QMessageBox*>(QStringLiteral("helpDialog")) &&
                window.findChild<QMessageBox*>(QStringLiteral("helpDialog"))->isVisible());
    window.findChild<QMessageBox*>(QStringLiteral("helpDialog"))->close();
    QTest::keyClick(&window, Qt::Key_3, Qt::ControlModifier);
    QCOMPARE(window.tabs()->currentWidget(), window.fillMaskPage());
    QVERIFY(window.isVisible());
    QTest::keyClick(&window, Qt::Key_Q, Qt::ControlModifier);
    QTRY_VERIFY(!window.isVisible());
  }

  // Missing 2: closing the window mid fine-tune asks first; "No" keeps it open and training, "Yes" stops and closes.
  void closingMidRunAsks() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    show(window, page);
    QVERIFY(page->loadCsv(reviews(dir_, "long.csv", 200)));
    page->setEpochs(50);
    QSignalSpy progress(page->job(), &TrainingJob::progress), finished(page->job(), &TrainingJob::finished);
    page->start();
    QVERIFY(progress.wait(kWait));
    QVERIFY(!window.close());
    QMessageBox* question = open_question(&window, "closeQuestion");
    QVERIFY(question);
    question->button(QMessageBox::No)->click();
    QTest::qWait(50);
    QVERIFY(window.isVisible() && page->job()->running());
    QVERIFY(!window.close());
    question = open_question(&window, "closeQuestion");
    QVERIFY(question);
    question->button(QMessageBox::Yes)->click();
    QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), kWait);
    QVERIFY(finished.wait(kWait) || !finished.isEmpty());
    QCOMPARE(finished.first().at(0).toBool(), true);  // cancelled: nothing kept
  }

  // Missing 3: the untrained notice on every tab whose output depends on the weights; head notices where needed.
  void untrainedAndMissingHeadNoticesOnEveryTab() {
    MainWindow window;
    QVERIFY(load(window, mlm_));  // not labelled untrained: no notice
    show(window, window.modelPage());
    auto* notice = window.findChild<MessageLine*>(QStringLiteral("modelNotice"));
    QVERIFY(notice);
    window.tabs()->setCurrentWidget(window.fillMaskPage());
    QVERIFY(!notice->isVisible());
    QVERIFY(load(window, make_model(dir_, "untrained", {}, true)));
    for (QWidget* tab : {static_cast<QWidget*>(window.fillMaskPage()), static_cast<QWidget*>(window.attentionPage()),
                         static_cast<QWidget*>(window.qaPage()), static_cast<QWidget*>(window.classifyPage()),
                         static_cast<QWidget*>(window.fineTunePage())}) {
      window.tabs()->setCurrentWidget(tab);
      QVERIFY2(notice->isVisible() && notice->text().contains("untrained"), qPrintable(window.tabs()->tabText(window.tabs()->currentIndex())));
    }
    window.tabs()->setCurrentWidget(window.tokenizePage());  // tokens do not depend on the weights
    QVERIFY(!notice->isVisible());
    QVERIFY(window.qaPage()->message()->text().contains("no question-answering head"));
    QVERIFY(window.classifyPage()->message()->text().contains("neither a classification head"));
    // Every page without its head greys the same things: its inputs and its saliency switch (walkthrough finding).
    for (TaskPage* page : std::initializer_list<TaskPage*>{window.qaPage(), window.classifyPage(), window.entitiesPage()})
      QVERIFY(!page->saliency()->isEnabled());
    QVERIFY(load(window, classifier_));
    QVERIFY(window.classifyPage()->saliency()->isEnabled());
    QVERIFY(!window.qaPage()->saliency()->isEnabled());
    QVERIFY(window.fillMaskPage()->message()->text().contains("no masked-language-model head"));
  }

  // Missing 4: fill-mask's Sentence column shows the text as typed with the word inserted (highlighted) and the
  // other masks still masks.
  void sentenceColumnHighlightsTheWordAndKeepsOtherMasks() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FillMaskPage* page = window.fillMaskPage();
    show(window, page);
    page->setText(QStringLiteral("The [MASK] sat on the [MASK]."));
    QTRY_COMPARE_WITH_TIMEOUT(page->predictions()->rowCount(), 10, kWait);
    for (int row = 0; row < 10; ++row) {
      const QString sentence = page->predictions()->index(row, 3).data().toString();
      QVERIFY2(sentence.count("[MASK]") == 1 && sentence.startsWith("The"), qPrintable(sentence));  // "The" + "##x" joins
    }
    // The inserted word is painted on a highlight.
    auto* table = page->findChild<QTableView*>();
    QVERIFY(table->itemDelegateForColumn(3));
    QImage image(table->columnWidth(3), table->rowHeight(0), QImage::Format_ARGB32);
    image.fill(Qt::white);
    {
      QPainter painter(&image);
      QStyleOptionViewItem option;
      option.initFrom(table);
      option.rect = image.rect();
      option.state &= ~QStyle::State_Selected;
      table->itemDelegateForColumn(3)->paint(&painter, option, page->predictions()->index(0, 3));
    }
    int highlighted = 0;
    for (int y = 0; y < image.height(); ++y)
      for (int x = 0; x < image.width(); ++x) highlighted += image.pixel(x, y) == qRgb(0xff, 0xe0, 0x8a);
    QVERIFY2(highlighted > 20, qPrintable(QString::number(highlighted)));
  }

  // The Tokens view's strip pane holds whole rows of chips: all of them, or as many whole rows as fit (walkthrough
  // finding: the second row was cut through its ids).
  void tokenStripShowsWholeRows() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    window.resize(1280, 860);
    window.tabs()->setCurrentWidget(window.tokenizePage());
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    TokenizePage* page = window.tokenizePage();
    TokenStrip* strip = page->strip();
    const QWidget* pane = strip->parentWidget()->parentWidget();  // the scroll area around the strip
    for (int words : {3, 30, 300}) {
      QString text;
      for (int i = 0; i < words; ++i) text += QStringLiteral("cat ");
      page->setText(text);
      QTRY_VERIFY_WITH_TIMEOUT(strip->encoding().tokens.size() >= size_t(std::min(words, 100)), kWait);
      QTest::qWait(50);
      const int pitch = strip->rowPitch(), content = strip->heightForWidth(strip->width());
      QVERIFY2(pane->height() >= content || pane->height() % pitch == 0,
               qPrintable(QStringLiteral("%1 words: pane %2, chips %3, row pitch %4").arg(words).arg(pane->height()).arg(content).arg(pitch)));
      QVERIFY(pane->height() >= std::min(content, pitch));  // at least a row, or all there is
    }
  }
};

QTEST_MAIN(TestGuiIssue13)
#include "test_gui_issue13.moc"
