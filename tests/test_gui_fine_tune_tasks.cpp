// The fine-tune view's tasks and what issue 13 still asked of it, driven offscreen: labels named before training
// and saved as id2label/label2id; the misclassified validation sentences after training; token classification
// (named entities, parts of speech) from CoNLL and JSON-lines files with the engine's run_ner-style training, tried
// sentences with their entities highlighted before and after; question answering from SQuAD files (issue 16: EM and
// F1 per epoch, answers before and after, a *ForQuestionAnswering folder, bad files said in words); a save folder
// suggested beside the data; and a view that still fits 1024 x 700 in every task and scrolls below it.
#include <QChartView>
#include <QComboBox>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QFileDialog>
#include <QProcess>
#include <QPushButton>
#include <QTimer>
#include <QFile>
#include <QGroupBox>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSpinBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBlock>
#include <QTextBrowser>
#include <QValueAxis>
#include <QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "fine_tune_page.h"
#include "item_models.h"
#include "main_window.h"
#include "model/random_model.h"
#include "entity_views.h"
#include "page_support.h"
#include "qa_data_panel.h"
#include "qa_try_panel.h"
#include "session.h"
#include "tagged_data_panel.h"
#include "tagged_try_view.h"
#include "test_support.h"
#include "text_data_panel.h"
#include "fill_mask_page.h"
#include "fine_tune_charts.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 120000;  // ms: a few epochs on a tiny model, on a busy 2-core machine

QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

bool load(MainWindow& window, const fs::path& folder) {
  QSignalSpy loaded(window.engine(), &EngineClient::loaded);
  window.openModel(q(folder));
  return loaded.wait(30000) || loaded.count() > 0;
}

QString write_file(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
  const QString path = dir.filePath(name);
  QFile f(path);
  f.open(QIODevice::WriteOnly);
  f.write(bytes);
  return path;
}

// Reviews labelled 0 and 1, as the shared sentiment sentences are.
QString numbered_reviews(const QTemporaryDir& dir, int per_class) {
  QByteArray csv = "text,label\n";
  for (int i = 0; i < per_class; ++i)
    csv += QStringLiteral("the food was good %1,1\nthe food was bad %1,0\n").arg(i).toUtf8();
  return write_file(dir, QStringLiteral("numbered.csv"), csv);
}

// A tiny NER set in CoNLL: people (two words) and places in a few templates.
QString conll(const QTemporaryDir& dir, const QString& name, int sentences, int offset = 0) {
  const char* first[] = {"John", "Mary", "Ada", "Alan", "Grace"};
  const char* last[] = {"Smith", "Jones", "Turing", "Hopper"};
  const char* place[] = {"Paris", "London", "Rome", "Oslo", "Lima"};
  QByteArray text = "-DOCSTART- -X- O O\n\n";
  for (int i = offset; i < offset + sentences; ++i) {
    text += QStringLiteral("%1 NNP B-PER\n%2 NNP I-PER\nlives VBZ O\nin IN O\n%3 NNP B-LOC\n. . O\n\n")
                .arg(first[i % 5], last[i % 4], place[(i / 2) % 5]).toUtf8();
  }
  return write_file(dir, name, text);
}

// A tiny SQuAD v1.1/v2.0 file: a paragraph per person ("Ada lives in Oslo. Ada works as a baker."), two questions
// each, and `unanswerable` questions whose answer the paragraph does not hold (is_impossible). Also one entry whose
// answer is not at its answer_start (id "bad-start"), which the reader skips.
QString squad_file(const QTemporaryDir& dir, const QString& name, int paragraphs, int offset, int unanswerable) {
  const char* names[] = {"Ada", "Alan", "Grace", "John", "Mary", "Linus", "Edsger"};
  const char* cities[] = {"Oslo", "Paris", "Lima", "Rome", "London"};
  const char* jobs[] = {"baker", "pilot", "farmer", "doctor", "teacher", "painter"};
  using nlohmann::json;
  json data = json::array();
  for (int i = offset; i < offset + paragraphs; ++i) {
    const std::string person = names[i % 7], city = cities[(i / 2) % 5], job = jobs[(i / 3) % 6];
    const std::string context = person + " lives in " + city + ". " + person + " works as a " + job + ".";
    json qas = json::array();
    const auto answer = [&](const std::string& text) { return json::array({{{"text", text}, {"answer_start", context.find(text)}}}); };
    qas.push_back({{"id", "q" + std::to_string(i) + "-city"}, {"question", "Where does " + person + " live?"}, {"answers", answer(city)}});
    qas.push_back({{"id", "q" + std::to_string(i) + "-job"}, {"question", "What does " + person + " work as?"}, {"answers", answer(job)}});
    if (i - offset < unanswerable)
      qas.push_back({{"id", "q" + std::to_string(i) + "-none"}, {"question", "When was " + person + " born?"},
                     {"answers", json::array()}, {"is_impossible", true}});
    if (i == offset)  // "Oslo" is not where answer_start says
      qas.push_back({{"id", "bad-start"}, {"question", "Where?"}, {"answers", json::array({{{"text", city}, {"answer_start", 0}}})}});
    data.push_back({{"title", person}, {"paragraphs", json::array({{{"context", context}, {"qas", qas}}})}});
  }
  const json squad = {{"version", unanswerable ? "v2.0" : "v1.1"}, {"data", data}};
  return write_file(dir, name, QByteArray::fromStdString(squad.dump()));
}

// Each character of a highlighted view's text (the labels written after entities, bold, left out) with its
// background colour (invalid: none).
std::vector<std::pair<QChar, QColor>> highlighted_characters(QTextBrowser* view) {
  std::vector<std::pair<QChar, QColor>> out;
  for (QTextBlock block = view->document()->begin(); block.isValid(); block = block.next())
    for (auto it = block.begin(); !it.atEnd(); ++it) {
      const QTextCharFormat format = it.fragment().charFormat();
      if (format.fontWeight() == QFont::Bold) continue;  // a label after an entity
      const QColor background = format.background().style() == Qt::NoBrush ? QColor() : format.background().color();
      for (QChar c : it.fragment().text()) out.emplace_back(c, background);
    }
  return out;
}

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

bool train(FineTunePage* page) {
  QSignalSpy finished(page->job(), &TrainingJob::finished);
  page->start();
  if (!page->job()->running()) return false;
  return (finished.wait(kWait) || finished.count() > 0) && finished.first().at(1).toString().isEmpty();
}

// Short paragraphs, one a line, over a few words: text a tiny model learns something from in a few steps.
QString paragraphs(const QTemporaryDir& dir, const QString& name, const QString& verb, int lines) {
  const QStringList animals{QStringLiteral("cat"), QStringLiteral("dog"), QStringLiteral("bird"), QStringLiteral("fish")};
  const QStringList places{QStringLiteral("mat"), QStringLiteral("house"), QStringLiteral("tree"), QStringLiteral("river")};
  QByteArray text;
  for (int i = 0; i < lines; ++i)
    text += QStringLiteral("the %1 %2 the %3 .\n").arg(animals[i % 4], verb, places[(i / 4) % 4]).toUtf8();
  return write_file(dir, name, text);
}

// The JOB literal of an exported training script, as JSON (null when python3 cannot read it); `compiled` tells whether
// `python3 -m py_compile` accepts the whole script.
nlohmann::json python_job(const QString& script, bool* compiled) {
  QProcess compile;
  compile.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-m"), QStringLiteral("py_compile"), script});
  *compiled = compile.waitForFinished(60000) && compile.exitCode() == 0;
  QProcess p;
  p.start(QStringLiteral("/usr/bin/python3"), {QStringLiteral("-c"), QStringLiteral(
      "import importlib.util, json, sys\n"
      "spec = importlib.util.spec_from_file_location('job', sys.argv[1])\n"
      "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
      "print(json.dumps(m.JOB))"), script});
  if (!p.waitForFinished(60000) || p.exitCode() != 0) return nullptr;
  return nlohmann::json::parse(p.readAllStandardOutput().toStdString(), nullptr, false);
}

// Each of `expected`'s fields as the job has it (the job has more: warm-up, weight decay, ...).
QString job_differences(const nlohmann::json& job, const nlohmann::json& expected) {
  QStringList wrong;
  for (const auto& [key, value] : expected.items())
    if (!job.is_object() || !job.contains(key) || job[key] != value)
      wrong << QString::fromStdString(key + ": " + (job.is_object() && job.contains(key) ? job[key].dump() : "missing") +
                                      ", expected " + value.dump());
  return wrong.join(QStringLiteral("; "));
}

// A small masked-LM model, "start" in `dir`, with BERT's initialisation (std 0.02): a few steps on a text already show
// in its held-out accuracy.
fs::path start_model(const QTemporaryDir& dir, unsigned seed) {
  const fs::path start = fs::path(dir.path().toStdString()) / "start";
  write_random_model(start, test::small_bert_spec(seed, 0.02f));
  return start;
}

// The window at `size` with the Fine-tune view in front, exposed (offscreen): what the layout checks look at.
bool show_fine_tune(MainWindow& window, QSize size) {
  window.resize(size);
  window.show();
  window.tabs()->setCurrentWidget(window.fineTunePage());
  return QTest::qWaitForWindowExposed(&window);
}

// The vertical extent, in pixels, of `series`' colour through its point `index` on the chart as drawn: the diameter
// of the marker there (the line itself is 2 pixels thick).
int marker_height(QChartView* view, QLineSeries* series, int index) {
  const QImage image = view->viewport()->grab().toImage();
  QChart* chart = view->chart();
  const QPoint at = view->mapFromScene(chart->mapToScene(chart->mapToPosition(series->at(index), series)));
  const QColor colour = series->color();
  const auto near = [&](int y) {
    if (y < 0 || y >= image.height() || at.x() < 0 || at.x() >= image.width()) return false;
    const QColor c = image.pixelColor(at.x(), y);
    return std::abs(c.red() - colour.red()) + std::abs(c.green() - colour.green()) + std::abs(c.blue() - colour.blue()) < 60;
  };
  int top = at.y(), bottom = at.y();
  while (near(top - 1) && at.y() - top < 40) --top;
  while (near(bottom + 1) && bottom - at.y() < 40) ++bottom;
  return near(at.y()) ? bottom - top + 1 : 0;
}

fs::path save(FineTunePage* page, const QTemporaryDir& dir, const QString& name) {
  QSignalSpy saved(page->job(), &TrainingJob::saved);
  const QString folder = dir.filePath(name);
  page->saveTo(folder);
  if (!(saved.wait(30000) || saved.count() > 0) || !saved.first().at(1).toString().isEmpty()) return {};
  return fs::path(folder.toStdString());
}
}  // namespace

class TestGuiFineTuneTasks : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path mlm_;

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    RandomModelSpec spec = test::small_bert_spec(11, 0.5f);
    mlm_ = fs::path(dir_.path().toStdString()) / "mlm";
    write_random_model(mlm_, spec);
  }

  // Issue 13: name the labels (0 -> negative) before training; the names are config.json's id2label and label2id,
  // and what the confusion matrix, the try table and the misclassified list say. Empty or repeated names are refused.
  void labelsAreNamedBeforeTraining() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QCOMPARE(page->task(), FineTuneTask::SentenceClassification);
    QVERIFY(page->loadCsv(numbered_reviews(dir_, 30)));
    QTableWidget* names = page->labelNames();
    QCOMPARE(names->rowCount(), 2);
    QCOMPARE(names->item(0, 0)->text(), QStringLiteral("0"));
    QCOMPARE(names->item(0, 1)->text(), QStringLiteral("30"));
    QCOMPARE(names->item(0, 2)->text(), QStringLiteral("0"));  // the file's value until renamed
    QVERIFY(names->item(0, 2)->flags() & Qt::ItemIsEditable);
    QVERIFY(!(names->item(0, 0)->flags() & Qt::ItemIsEditable));

    // Refused before anything runs: an empty name, two labels with one name.
    QVERIFY(page->setLabelName(0, QStringLiteral("  ")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("has no name")), qPrintable(page->message()->text()));
    QVERIFY(page->setLabelName(0, QStringLiteral("good")));
    QVERIFY(page->setLabelName(1, QStringLiteral("good")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("Two labels are named \"good\"")), qPrintable(page->message()->text()));
    QVERIFY(!page->setLabelName(2, QStringLiteral("neutral")));

    QVERIFY(page->setLabelName(0, QStringLiteral("negative")));
    QVERIFY(page->setLabelName(1, QStringLiteral(" positive ")));  // trimmed
    page->setEpochs(2);
    page->setLearningRate(1e-3);
    QVERIFY(train(page));
    QCOMPARE(page->confusion()->horizontalHeaderItem(0)->text(), QStringLiteral("negative"));
    QCOMPARE(page->confusion()->verticalHeaderItem(1)->text(), QStringLiteral("positive"));
    page->trySentence(QStringLiteral("the food was good"));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryResults()->rowCount(), 2, 30000);
    QCOMPARE(page->tryResults()->index(0, 0).data().toString(), QStringLiteral("negative"));

    // The misclassified validation sentences: every wrong one (as many as the confusion matrix's off-diagonal
    // cells count), with both names and the predicted label's probability, most confident first.
    int wrong = 0;
    for (int t = 0; t < 2; ++t)
      for (int p = 0; p < 2; ++p)
        if (t != p) wrong += page->confusion()->item(t, p)->text().toInt();
    ResultTableModel* mistakes = page->mistakes();
    QCOMPARE(mistakes->rowCount(), wrong);
    QCOMPARE(mistakes->columnCount(), 4);
    double previous = 1.0;
    for (int r = 0; r < mistakes->rowCount(); ++r) {
      const QString gold = mistakes->index(r, 1).data().toString(), predicted = mistakes->index(r, 2).data().toString();
      QVERIFY(gold != predicted);
      QVERIFY(QStringList({"negative", "positive"}).contains(gold) && QStringList({"negative", "positive"}).contains(predicted));
      QVERIFY(mistakes->index(r, 0).data().toString().startsWith(QStringLiteral("the food was")));
      const double confidence = mistakes->index(r, 3).data(Qt::EditRole).toDouble();
      QVERIFY(confidence >= 0.5 && confidence <= 1.0);  // the larger of two probabilities
      QVERIFY(confidence <= previous + 1e-12);
      previous = confidence;
    }
    auto* tabs = page->findChild<QTabWidget*>();
    QVERIFY(tabs);
    QCOMPARE(tabs->tabText(1), QStringLiteral("Misclassified (%1)").arg(wrong));

    const fs::path saved = save(page, dir_, QStringLiteral("named"));
    QVERIFY(!saved.empty());
    const nlohmann::json config = read_json(saved / "config.json");
    QCOMPARE(config["id2label"], nlohmann::json({{"0", "negative"}, {"1", "positive"}}));
    QCOMPARE(config["label2id"], nlohmann::json({{"negative", 0}, {"positive", 1}}));
  }

  // A wrong prediction is listed with its text: a run whose model cannot have learned anything (no training
  // signal: one step at a tiny learning rate) gets about half the validation sentences wrong, and lists each.
  void misclassifiedListsEveryWrongSentence() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(page->loadCsv(numbered_reviews(dir_, 30)));
    page->setEpochs(1);
    page->setLearningRate(1e-6);
    QVERIFY(train(page));
    int wrong = 0;
    for (int t = 0; t < 2; ++t)
      for (int p = 0; p < 2; ++p)
        if (t != p) wrong += page->confusion()->item(t, p)->text().toInt();
    QVERIFY(wrong > 0);
    QCOMPARE(page->mistakes()->rowCount(), wrong);
  }

  // Token classification from CoNLL files (train and validation), as `train --task ner` trains: the tags sorted,
  // entity scores per type, sentences with wrongly tagged words, a tag per word when trying a sentence, and a saved
  // BertForTokenClassification folder.
  void tokenClassificationFromConll() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    auto* task = page->findChild<QComboBox*>(QStringLiteral("fineTuneTask"));
    QVERIFY(task);
    QCOMPARE(task->count(), 4);  // sentence classification, token classification, question answering, masked LM
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("train.conll"), 40)));
    QCOMPARE(page->task(), FineTuneTask::TokenClassification);
    QCOMPARE(task->currentData().toInt(), int(FineTuneTask::TokenClassification));
    QTableWidget* tags = page->taggedData()->tags();
    QCOMPARE(tags->rowCount(), 4);  // B-LOC B-PER I-PER O
    QCOMPARE(tags->item(3, 0)->text(), QStringLiteral("O"));
    QCOMPARE(tags->item(3, 1)->text(), QStringLiteral("120"));
    QVERIFY2(page->taggedData()->summary().contains(QStringLiteral("40 sentence(s)")), qPrintable(page->taggedData()->summary()));
    QVERIFY(page->loadTaggedValidation(conll(dir_, QStringLiteral("dev.conll"), 10, 40)));
    QVERIFY(page->taggedData()->summary().contains(QStringLiteral("validation: 10 sentence(s) from the file")));
    page->setEpochs(3);
    page->setLearningRate(2e-3);
    QVERIFY(train(page));
    QCOMPARE(page->validationChart()->chart()->series().size(), 2);
    auto* f1 = qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(1));
    QCOMPARE(f1->name(), QStringLiteral("entity F1"));
    QCOMPARE(f1->count(), 3);
    QCOMPARE(page->confusion()->rowCount(), 2);  // LOC, PER
    QCOMPARE(page->confusion()->verticalHeaderItem(0)->text(), QStringLiteral("LOC"));
    QCOMPARE(page->confusion()->horizontalHeaderItem(2)->text(), QStringLiteral("F1"));
    QCOMPARE(page->mistakes()->columnCount(), 3);
    for (int r = 0; r < page->mistakes()->rowCount(); ++r)
      QVERIFY(page->mistakes()->index(r, 1).data().toString() != page->mistakes()->index(r, 2).data().toString());
    page->trySentence(QStringLiteral("Ada Smith lives in Oslo ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryTags()->rowCount(), 6, 30000);
    QCOMPARE(page->tryTags()->index(4, 0).data().toString(), QStringLiteral("Oslo"));
    const QStringList known{"B-LOC", "B-PER", "I-PER", "O"};
    for (int r = 0; r < 6; ++r) {
      QVERIFY(known.contains(page->tryTags()->index(r, 1).data().toString()));
      QVERIFY(known.contains(page->tryTags()->index(r, 2).data().toString()));
    }
    // The entities highlighted as the Entities view shows them: each word tagged B-/I- on its type's colour, the
    // others plain, as the fine-tuned model tags the sentence and as the model did before training.
    TaggedTryView* entities = page->tryEntities();
    QVERIFY(entities->isVisibleTo(page));
    const QString sentence = QStringLiteral("Ada Smith lives in Oslo .");
    const QStringList words = sentence.split(QLatin1Char(' '));
    int coloured = 0;
    for (auto [view, column] : {std::pair{entities->after(), 1}, {entities->before(), 2}}) {
      const auto chars = highlighted_characters(view);
      QString plain;
      for (const auto& [c, colour] : chars) plain += c;
      QCOMPARE(plain, sentence);
      for (int w = 0, at = 0; w < words.size(); at += int(words[w++].size()) + 1) {
        const QString tag = page->tryTags()->index(w, column).data().toString();
        const QColor expected = tag == QLatin1String("O") ? QColor() : entities->palette().color(tag);
        coloured += expected.isValid();
        for (int c = 0; c < words[w].size(); ++c)
          QVERIFY2(chars[size_t(at + c)].second == expected, qPrintable(words[w] + QLatin1Char('/') + tag));
      }
    }
    QVERIFY(coloured > 0);  // the check above saw entities, not only plain words
    QVERIFY(entities->palette().types() == QStringList({"LOC", "PER"}));

    const fs::path saved = save(page, dir_, QStringLiteral("tagger"));
    QVERIFY(!saved.empty());
    const nlohmann::json config = read_json(saved / "config.json");
    QCOMPARE(config["architectures"][0].get<std::string>(), std::string("BertForTokenClassification"));
    QCOMPARE(config["id2label"], nlohmann::json({{"0", "B-LOC"}, {"1", "B-PER"}, {"2", "I-PER"}, {"3", "O"}}));
  }

  // JSON lines, a validation share of the training file instead of a second file, and data that cannot train a
  // tagger said in words before anything runs.
  void tokenClassificationFromJsonLinesAndBadData() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QByteArray lines;
    for (int i = 0; i < 20; ++i)
      lines += QStringLiteral("{\"tokens\": [\"the\", \"dog\", \"runs\"], \"ner_tags\": [\"DET\", \"NOUN\", \"VERB\"]}\n").toUtf8();
    QVERIFY(page->loadTaggedFile(write_file(dir_, QStringLiteral("pos.jsonl"), lines)));
    QVERIFY(page->taggedData()->summary().contains(QStringLiteral("Not entity tags")));
    page->setEpochs(1);
    QVERIFY(train(page));  // 20% of 20 sentences held out
    QVERIFY2(page->message()->text().contains(QStringLiteral("Training finished")), qPrintable(page->message()->text()));
    QCOMPARE(page->confusion()->rowCount(), 3);  // DET NOUN VERB
    QCOMPARE(qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(0))->name(), QStringLiteral("accuracy"));
    QCOMPARE(qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(1))->name(), QStringLiteral("mean F1"));
    // Parts of speech are no entities: the tried sentence is a table of tags, nothing highlighted.
    QVERIFY(!page->tryEntities()->isVisibleTo(page));
    page->trySentence(QStringLiteral("the dog runs"));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryTags()->rowCount(), 3, 30000);

    // A validation tag the training data never has; a file of one tag; a file that is not tagged at all.
    QVERIFY(page->loadTaggedValidation(write_file(dir_, QStringLiteral("odd.jsonl"),
                                                  "{\"tokens\": [\"a\", \"cat\"], \"ner_tags\": [\"DET\", \"ADJ\"]}\n")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("line 1: the tag \"ADJ\" never occurs")), qPrintable(page->message()->text()));
    QVERIFY(page->loadTaggedValidation(QString()));
    QVERIFY(page->loadTaggedFile(write_file(dir_, QStringLiteral("one-tag.conll"), "a O\nb O\n\nc O\n")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("two or more tags")), qPrintable(page->message()->text()));
    QVERIFY(!page->loadTaggedFile(write_file(dir_, QStringLiteral("untagged.conll"), "just\nwords\n")));
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("line 1")), qPrintable(page->message()->text()));
    page->start();
    QVERIFY(!page->job()->running());
  }

  // Issue 16: question answering from SQuAD files, as `train --task qa` trains: the counts and the skipped entry by
  // id, exact match and F1 per epoch (SQuAD v2.0's extra scores with unanswerable questions), a question tried on a
  // context before and after, and a saved folder that opens as a question-answering model.
  void questionAnsweringFromSquad() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(page->loadQaFile(squad_file(dir_, QStringLiteral("squad-train.json"), 24, 0, 2)));
    QCOMPARE(page->task(), FineTuneTask::QuestionAnswering);
    const QString summary = page->qaData()->summary();
    QVERIFY2(summary.contains(QStringLiteral("50 question(s) on 24 paragraph(s), 2 unanswerable")), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("SQuAD v2.0")), qPrintable(summary));
    QPlainTextEdit* skipped = page->qaData()->skippedEntries();
    QVERIFY(skipped->isVisibleTo(page->qaData()));
    QVERIFY2(skipped->toPlainText().contains(QStringLiteral("bad-start")), qPrintable(skipped->toPlainText()));
    // Validation questions as Hugging Face datasets write them (JSON lines).
    QByteArray lines;
    for (const char* person : {"Ada", "Grace", "Alan"}) {
      const QString context = QStringLiteral("%1 lives in Rome. %1 works as a pilot.").arg(QLatin1String(person));
      lines += QStringLiteral("{\"id\": \"v-%1\", \"question\": \"Where does %1 live?\", \"context\": \"%2\", "
                              "\"answers\": {\"text\": [\"Rome\"], \"answer_start\": [%3]}}\n")
                   .arg(QLatin1String(person), context).arg(context.indexOf(QStringLiteral("Rome"))).toUtf8();
    }
    QVERIFY(page->loadQaValidation(write_file(dir_, QStringLiteral("squad-dev.jsonl"), lines)));
    QVERIFY2(page->qaData()->summary().contains(QStringLiteral("validation: 3 question(s) on 3 paragraph(s), 0 unanswerable from the file")),
             qPrintable(page->qaData()->summary()));
    page->setEpochs(2);
    page->setLearningRate(1e-3);
    QVERIFY(train(page));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Training finished. Try a question below")), qPrintable(page->message()->text()));
    const QList<QAbstractSeries*> series = page->validationChart()->chart()->series();
    auto* exact = qobject_cast<QLineSeries*>(series.at(0));
    auto* f1 = qobject_cast<QLineSeries*>(series.at(1));
    QCOMPARE(exact->name(), QStringLiteral("exact match"));
    QCOMPARE(f1->name(), QStringLiteral("F1"));
    QCOMPARE(exact->count(), 2);
    QCOMPARE(f1->count(), 2);
    // In percent, as the official script and the scores table give them (walkthrough finding: the table said percent
    // beside a chart from 0 to 1), on an axis from 0 to 100.
    for (QLineSeries* s : {exact, f1})
      for (const QPointF& p : s->points()) QVERIFY(p.y() >= 0 && p.y() <= 100);
    QVERIFY(f1->at(1).y() >= exact->at(1).y());  // a token F1 is never below the exact match
    auto* percent = qobject_cast<QValueAxis*>(page->validationChart()->chart()->axes(Qt::Vertical).value(0));
    QVERIFY(percent && percent->min() < 0 && percent->min() > -10 && percent->max() > 100 && percent->max() < 110);
    QCOMPARE(page->validationChart()->chart()->title(), QStringLiteral("Validation (percent)"));
    // The scores table: the official v2.0 script's scores (the training file has unanswerable questions).
    QTableWidget* scores = page->confusion();
    QCOMPARE(scores->horizontalHeaderItem(0)->text(), QStringLiteral("SQuAD v2.0 (percent)"));
    QCOMPARE(scores->verticalHeaderItem(0)->text(), QStringLiteral("Exact match"));
    QCOMPARE(scores->item(0, 0)->text().toDouble(), std::round(exact->at(1).y() * 100) / 100);
    QCOMPARE(scores->item(1, 0)->text().toDouble(), std::round(f1->at(1).y() * 100) / 100);
    QCOMPARE(scores->item(2, 0)->text(), QStringLiteral("3"));  // questions
    QVERIFY(scores->rowCount() > 3);                            // HasAns, NoAns, best thresholds

    // A question on a context: the fine-tuned model's answer and the starting model's, each a span of the context.
    QVERIFY(page->qaTry()->isVisibleTo(page));
    const QString context = QStringLiteral("Ada lives in Oslo. Ada works as a baker.");
    page->tryQuestion(QStringLiteral("Where does Ada live?"), context);
    ResultTableModel* answers = page->qaTry()->answers();
    QTRY_COMPARE_WITH_TIMEOUT(answers->rowCount(), 2, 30000);
    QCOMPARE(answers->index(0, 0).data().toString(), QStringLiteral("Fine-tuned"));
    QCOMPARE(answers->index(1, 0).data().toString(), QStringLiteral("Before training"));
    for (int r = 0; r < 2; ++r) {
      const QString text = answers->index(r, 1).data().toString();
      const QStringList span = answers->index(r, 3).data().toString().split(QChar(0x2013));
      QCOMPARE(span.size(), 2);
      QCOMPARE(context.mid(span[0].toInt(), span[1].toInt() - span[0].toInt()), text);
      const double score = answers->index(r, 2).data(Qt::EditRole).toDouble();
      QVERIFY(score > 0 && score <= 1);
    }

    // Saved as Hugging Face's *ForQuestionAnswering, which the engine and the app open as a question answerer.
    const fs::path saved = save(page, dir_, QStringLiteral("qa-model"));
    QVERIFY(!saved.empty());
    QCOMPARE(read_json(saved / "config.json")["architectures"][0].get<std::string>(), std::string("BertForQuestionAnswering"));
    QVERIFY(Session(saved).model().has_qa_head());
    QVERIFY(load(window, saved));
    QVERIFY(window.engine()->model() && window.engine()->model()->qa);
    // Another model is open: the run's charts and answers were the other model's, and go.
    QCOMPARE(exact->count(), 0);
    QCOMPARE(f1->count(), 0);
    QCOMPARE(answers->rowCount(), 0);
  }

  // SQuAD files that cannot be used are said in words, and leave the other tasks and the loaded data working.
  void badSquadFilesAreSaid() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(!page->loadQaFile(write_file(dir_, QStringLiteral("broken.json"), "{\"data\": [{\"paragraphs\": [")));
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("broken.json")), qPrintable(page->message()->text()));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("Choose a file of SQuAD questions")), qPrintable(page->message()->text()));
    // Every entry bad: the first one's id and why.
    QVERIFY(!page->loadQaFile(write_file(dir_, QStringLiteral("all-bad.jsonl"),
                                          "{\"id\": \"x1\", \"question\": \"Who?\", \"context\": \"Ada is here.\", "
                                          "\"answers\": {\"text\": [\"Bob\"], \"answer_start\": [0]}}\n")));
    QVERIFY2(page->message()->text().contains(QStringLiteral("no usable questions")) &&
                 page->message()->text().contains(QStringLiteral("x1")),
             qPrintable(page->message()->text()));
    // A good training file, then a broken validation file: the training data stays, validation is held out again.
    QVERIFY(page->loadQaFile(squad_file(dir_, QStringLiteral("squad-ok.json"), 6, 0, 0)));
    QVERIFY(!page->loadQaValidation(write_file(dir_, QStringLiteral("dev-broken.json"), "not json at all")));
    QVERIFY(page->message()->isError());
    QVERIFY(page->qaData()->hasData());
    QVERIFY2(page->qaData()->summary().contains(QStringLiteral("validation: the validation share")), qPrintable(page->qaData()->summary()));
    QVERIFY(page->loadQaValidation(QString()));
    // The other tasks still load their data.
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("after-squad.conll"), 4)));
    QCOMPARE(page->task(), FineTuneTask::TokenClassification);
    QVERIFY(!page->message()->isError());
  }

  // Save… suggested a folder in the process's working directory (a source tree, or "/"): now a free name beside the
  // data, which saving never replaces.
  // "Masked LM on my text": text files (one paragraph a line) continue the open model's pre-training in a run folder
  // beside the first file. Held-out masked-token accuracy before and after each epoch, the loss curve, the Fill-mask
  // view's before/after table, Save as BertForMaskedLM; Cancel keeps the run's checkpoint and Start resumes it.
  void maskedLmOnMyText() {
    MainWindow window;
    QTemporaryDir texts;
    QVERIFY(load(window, start_model(texts, 13)));
    FineTunePage* page = window.fineTunePage();
    const QString first = paragraphs(texts, QStringLiteral("notes.txt"), QStringLiteral("sat on"), 48);
    const QString second = paragraphs(texts, QStringLiteral("more.txt"), QStringLiteral("likes"), 32);
    QVERIFY(page->loadTextFiles({first, second}));
    QCOMPARE(page->task(), FineTuneTask::MaskedLanguageModel);
    QVERIFY2(page->textData()->summary().startsWith(QStringLiteral("80 paragraphs (")), qPrintable(page->textData()->summary()));
    QVERIFY2(page->textData()->summary().contains(QStringLiteral(" words) in 2 files;")), qPrintable(page->textData()->summary()));
    page->setEpochs(4);
    page->setLearningRate(5e-3);
    page->setMaxLength(8);
    QVERIFY(!page->patience()->isEnabled());  // no validation score to stop early on
    auto* loss = qobject_cast<QLineSeries*>(page->lossChart()->chart()->series().at(0));
    QVERIFY(train(page));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Adapted to your text")), qPrintable(page->message()->text()));
    // The run folder: a free name beside the first file, a pre-training run with its checkpoint.
    const QString run = QDir(texts.path()).filePath(QStringLiteral("notes-mlm-run"));
    QCOMPARE(page->textData()->runFolder(), run);
    QVERIFY(QFile::exists(run + QStringLiteral("/checkpoint/state.json")));
    QVERIFY(QFile::exists(run + QStringLiteral("/curve.csv")));
    QVERIFY(loss->count() >= 3);  // a point at least at each epoch's end
    // Held-out accuracy: before training, then after each epoch.
    QTableWidget* heldout = page->heldoutScores();
    QCOMPARE(heldout->rowCount(), 5);
    QCOMPARE(heldout->verticalHeaderItem(0)->text(), QStringLiteral("Before training"));
    QCOMPARE(heldout->verticalHeaderItem(4)->text(), QStringLiteral("Epoch 4"));
    QCOMPARE(heldout->horizontalHeaderItem(0)->text(), QStringLiteral("Top-1"));
    for (int r = 0; r < 5; ++r) {
      const double top1 = heldout->item(r, 0)->text().toDouble(), top5 = heldout->item(r, 1)->text().toDouble();
      QVERIFY(top1 >= 0 && top1 <= top5 && top5 <= 1);
      QVERIFY(heldout->item(r, 4)->text().toInt() > 0);  // masked tokens
    }
    const double before5 = heldout->item(0, 1)->text().toDouble(), after5 = heldout->item(4, 1)->text().toDouble();
    QVERIFY2(after5 > before5, qPrintable(QStringLiteral("top-5 %1 -> %2").arg(before5).arg(after5)));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Held-out top-1 accuracy")), qPrintable(page->message()->text()));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Save stores the last epoch")), qPrintable(page->message()->text()));
    auto* top1 = qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(0));
    QCOMPARE(top1->name(), QStringLiteral("top-1"));  // the chart's title says "held-out"
    QCOMPARE(top1->count(), 5);
    QCOMPARE(top1->at(0).x(), 0.0);

    // The playground: the same sentence from the adapted model and from the one it started from.
    FillMaskPage* fill = window.fillMaskPage();
    fill->setText(QStringLiteral("the cat sat on the [MASK] ."));
    QVERIFY(fill->adaptedBox()->isVisibleTo(fill));
    ResultTableModel* both = fill->adaptedComparison();
    QTRY_COMPARE_WITH_TIMEOUT(both->rowCount(), 5, 30000);  // top 5
    // Each table names its models: the open one in the main table, the run and the model it started from below.
    QCOMPARE(both->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Adapted (notes-mlm-run): word"));
    QCOMPARE(both->headerData(3, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("Before (start): word"));
    QTRY_COMPARE_WITH_TIMEOUT(fill->predictions()->rowCount(), 5, 30000);
    QCOMPARE(fill->predictions()->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(), QStringLiteral("start: word"));
    bool differ = false;
    for (int r = 0; r < 5; ++r) {
      QVERIFY(!both->index(r, 1).data().toString().isEmpty() && !both->index(r, 3).data().toString().isEmpty());
      const double after = both->index(r, 2).data(Qt::EditRole).toDouble(), before = both->index(r, 4).data(Qt::EditRole).toDouble();
      QVERIFY(after > 0 && after <= 1 && before > 0 && before <= 1);
      differ = differ || std::abs(after - before) > 1e-6;
    }
    QVERIFY(differ);
    // Compare mode on: the table above is A beside B, and the adapted model's table says it is another pair.
    auto* note = fill->adaptedBox()->findChild<QLabel*>();
    QVERIFY(note && note->text().startsWith(QStringLiteral("The model adapted to your text in notes-mlm-run")));
    window.engine()->compareWith(q(mlm_));
    QTRY_VERIFY_WITH_TIMEOUT(window.engine()->comparing(), 30000);
    fill->refresh();
    QTRY_VERIFY2_WITH_TIMEOUT(note->text().startsWith(QStringLiteral("Not A beside B: the model adapted to your text in "
                                                                     "notes-mlm-run (Fine-tune view) beside start")),
                              qPrintable(note->text()), 30000);
    QTRY_COMPARE_WITH_TIMEOUT(fill->predictions()->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(),
                              QStringLiteral("A (start): word"), 30000);
    window.engine()->stopCompare();
    QTRY_VERIFY_WITH_TIMEOUT(!window.engine()->comparing(), 30000);

    // Saved as BertForMaskedLM, which the engine and the app open as a masked-LM model.
    const fs::path saved = save(page, dir_, QStringLiteral("adapted-model"));
    QVERIFY(!saved.empty());
    QCOMPARE(read_json(saved / "config.json")["architectures"][0].get<std::string>(), std::string("BertForMaskedLM"));
    QVERIFY(Session(saved).model().has_mlm_head());
    QVERIFY(load(window, saved));
    QVERIFY(window.engine()->model() && window.engine()->model()->mlm);

    // Cancel: the run keeps its checkpoint, and Start resumes it from there.
    const QString second_run = QDir(texts.path()).filePath(QStringLiteral("long-run"));
    page->textData()->setRunFolder(second_run);
    page->setEpochs(200);
    {
      QSignalSpy progress(page->job(), &TrainingJob::progress);
      QSignalSpy finished(page->job(), &TrainingJob::finished);
      page->start();
      QVERIFY(page->job()->running());
      QVERIFY(progress.wait(kWait) || progress.count() > 0);
      page->cancel();
      QVERIFY(finished.wait(kWait) || finished.count() > 0);
      QCOMPARE(finished.first().at(0).toBool(), true);
    }
    QVERIFY2(page->message()->text().contains(QStringLiteral("Start resumes")), qPrintable(page->message()->text()));
    QVERIFY(!page->job()->hasModel());
    QVERIFY(!fill->adaptedBox()->isVisibleTo(fill));  // no adapted model any more
    const int stopped = read_json(fs::path((second_run + QStringLiteral("/checkpoint/state.json")).toStdString()))["step"].get<int>();
    QVERIFY(stopped > 0);
    {
      QSignalSpy progress(page->job(), &TrainingJob::progress);
      QSignalSpy finished(page->job(), &TrainingJob::finished);
      page->start();
      QVERIFY(QTest::qWaitFor([&] { return !progress.isEmpty() && progress.last().at(0).value<TrainProgress>().step > stopped; }, kWait));
      // Resumed, not restarted: the steps up to `stopped` are the run's history (from curve.csv), then the new ones,
      // each once and in order.
      int previous = 0;
      for (const QList<QVariant>& report : progress) {
        const int step = report.at(0).value<TrainProgress>().step;
        QVERIFY2(step > previous, qPrintable(QStringLiteral("step %1 after %2").arg(step).arg(previous)));
        previous = step;
      }
      page->cancel();
      QVERIFY(finished.wait(kWait) || finished.count() > 0);
    }
  }

  // Walkthrough findings 3, 4, 13, 14, 15: before its first Start, masked LM's results show its own layout (the
  // held-out table, no confusion matrix); a Start that fails says "failed" in the progress bar, not "starting…"; the
  // run folder Start filled in follows the next text file chosen (one the user typed stays); counts read "1 file",
  // not "1 file(s)"; at 1024 x 700 the task's name and the held-out chart's legend fit.
  void maskedLmBeforeStartAndAfterAFailure() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1024, 700)));
    auto* details = page->heldoutScores()->parentWidget()->parentWidget();  // the stacked widget in the tab widget
    auto* tabs = qobject_cast<QTabWidget*>(details);
    QVERIFY(tabs);
    QCOMPARE(tabs->tabText(0), QStringLiteral("Confusion matrix"));  // sentence classification first
    QTemporaryDir texts;
    const QString oneline = write_file(texts, QStringLiteral("oneline.txt"), "the cat sat on the mat .\n");
    QVERIFY(page->loadTextFiles({oneline}));
    QCOMPARE(tabs->tabText(0), QStringLiteral("Held-out masked-token accuracy"));
    QVERIFY(!tabs->isTabVisible(1));  // no misclassified sentences
    QCOMPARE(page->heldoutScores()->columnCount(), 5);
    QCOMPARE(page->heldoutScores()->horizontalHeaderItem(3)->text(), QStringLiteral("Baseline top-1"));
    QVERIFY(page->heldoutScores()->horizontalHeaderItem(3)->toolTip().contains(QStringLiteral("most frequent token")));
    QCOMPARE(page->validationChart()->chart()->title(), QStringLiteral("Held-out masked tokens"));
    QCOMPARE(page->validationChart()->chart()->series().at(0)->name(), QStringLiteral("top-1"));
    QVERIFY(!page->patience()->isEnabled());
    QVERIFY2(page->patience()->toolTip().contains(QStringLiteral("Save stores the last epoch")), qPrintable(page->patience()->toolTip()));
    // Counts in words.
    QVERIFY2(page->textData()->summary().startsWith(QStringLiteral("1 paragraph (7 words) in 1 file;")),
             qPrintable(page->textData()->summary()));
    QVERIFY(!page->textData()->summary().contains(QStringLiteral("(s)")));
    // At 1024 x 700: the task's name and the legend's two names fit.
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    auto* combo = page->findChild<QComboBox*>(QStringLiteral("fineTuneTask"));
    QVERIFY(combo);
    QVERIFY2(combo->fontMetrics().horizontalAdvance(combo->currentText()) + 40 <= combo->width(),
             qPrintable(QStringLiteral("%1 in %2 px").arg(combo->currentText()).arg(combo->width())));
    QVERIFY(!combo->itemData(combo->currentIndex(), Qt::ToolTipRole).toString().isEmpty());  // the long description
    QChart* chart = page->validationChart()->chart();
    const QFontMetrics legendFont(chart->legend()->font());
    int legend = 0;
    for (QAbstractSeries* series : chart->series()) legend += legendFont.horizontalAdvance(series->name()) + 2 * legendFont.height() + 8;
    QVERIFY2(legend <= chart->size().width() - 16, qPrintable(QStringLiteral("legend %1 px, chart %2 px").arg(legend).arg(chart->size().width())));
    // A Start that fails (less than one sequence of text): the bar says so.
    auto* bar = page->findChild<QProgressBar*>();
    QVERIFY(bar);
    QCOMPARE(bar->format(), QStringLiteral("not started"));
    page->setMaxLength(128);
    QSignalSpy finished(page->job(), &TrainingJob::finished);
    page->start();
    QVERIFY(finished.wait(kWait) || finished.count() > 0);
    QVERIFY2(finished.first().at(1).toString().contains(QStringLiteral("less than one sequence")),
             qPrintable(finished.first().at(1).toString()));
    QCOMPARE(bar->format(), QStringLiteral("failed"));
    // The folder Start named after oneline.txt follows the next file chosen.
    QCOMPARE(page->textData()->runFolder(), QDir(texts.path()).filePath(QStringLiteral("oneline-mlm-run")));
    const QString licenses = paragraphs(texts, QStringLiteral("licenses.txt"), QStringLiteral("sat on"), 12);
    QVERIFY(page->loadTextFiles({licenses}));
    QCOMPARE(page->textData()->runFolder(), QDir(texts.path()).filePath(QStringLiteral("licenses-mlm-run")));
    // The same files again: the folder Start filled in stays (Start resumes that run).
    page->textData()->fillRunFolder(QDir(texts.path()).filePath(QStringLiteral("licenses-mlm-run")));
    QVERIFY(page->loadTextFiles({licenses}));
    QCOMPARE(page->textData()->runFolder(), QDir(texts.path()).filePath(QStringLiteral("licenses-mlm-run")));
    // A folder the user typed stays when other files are chosen.
    auto* field = page->textData()->findChild<QLineEdit*>(QStringLiteral("runFolder"));
    QVERIFY(field);
    field->clear();
    const QString typed = QDir(texts.path()).filePath(QStringLiteral("my-run"));
    QTest::keyClicks(field, typed);
    QVERIFY(page->textData()->runFolderChosen());
    QVERIFY(page->loadTextFiles({oneline}));
    QCOMPARE(page->textData()->runFolder(), typed);
  }

  // Walkthrough findings 2 and 16: a run cancelled after its first epoch, then resumed (Start again), shows its whole
  // history from the run folder's curve.csv: the Epoch 1 row of the held-out table and the loss curve's first steps
  // stay. The held-out chart's markers are small.
  void resumedRunShowsItsWholeHistory() {
    MainWindow window;
    QTemporaryDir texts;
    QVERIFY(load(window, start_model(texts, 17)));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1280, 800)));
    QVERIFY(page->loadTextFiles({paragraphs(texts, QStringLiteral("notes.txt"), QStringLiteral("sat on"), 96)}));
    page->setEpochs(6);
    page->setLearningRate(5e-3);
    page->setMaxLength(8);
    const QString run = QDir(texts.path()).filePath(QStringLiteral("resumed-run"));
    page->textData()->setRunFolder(run);
    QTableWidget* heldout = page->heldoutScores();
    {
      QSignalSpy scored(page->job(), &TrainingJob::heldoutScored);
      QSignalSpy finished(page->job(), &TrainingJob::finished);
      page->start();
      QVERIFY(QTest::qWaitFor([&] { return scored.count() >= 2 || finished.count() > 0; }, kWait));  // before, epoch 1
      page->cancel();
      QVERIFY(finished.wait(kWait) || finished.count() > 0);
      QVERIFY(finished.first().at(0).toBool());
    }
    const int stopped = read_json(fs::path(run.toStdString()) / "checkpoint" / "state.json")["step"].get<int>();
    const int total = read_json(fs::path(run.toStdString()) / "options.json")["total_steps"].get<int>();
    QVERIFY2(stopped < total, "the run finished before it was cancelled");
    QVERIFY(heldout->rowCount() >= 2);
    QCOMPARE(heldout->verticalHeaderItem(1)->text(), QStringLiteral("Epoch 1"));
    const QString epoch1 = heldout->item(1, 0)->text(), epoch1Masked = heldout->item(1, 4)->text();
    auto* loss = qobject_cast<QLineSeries*>(page->lossChart()->chart()->series().at(0));
    QVERIFY(loss->count() > 0);
    const double firstStep = loss->at(0).x();

    QVERIFY(train(page));  // resumes, to the end
    QCOMPARE(heldout->rowCount(), 7);  // before training, epochs 1 to 6
    for (int r = 1; r <= 6; ++r) QCOMPARE(heldout->verticalHeaderItem(r)->text(), QStringLiteral("Epoch %1").arg(r));
    QCOMPARE(heldout->item(1, 0)->text(), epoch1);        // from curve.csv, as it was shown
    QCOMPARE(heldout->item(1, 4)->text(), epoch1Masked);  // the held-out tokens too
    QVERIFY(loss->count() > 0);
    QCOMPARE(loss->at(0).x(), firstStep);  // the loss curve starts where the run started, not where it resumed
    auto* top1 = qobject_cast<QLineSeries*>(page->validationChart()->chart()->series().at(0));
    QCOMPARE(top1->count(), 7);
    QCOMPARE(top1->at(1).x(), 1.0);
    // Markers a few pixels across (Qt draws markerSize as the radius).
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    const int marker = marker_height(page->validationChart(), top1, 3);
    QVERIFY2(marker > 0 && marker <= 10, qPrintable(QStringLiteral("marker %1 px high").arg(marker)));
  }

  // Text that cannot be used, and run folders that cannot hold a run, are said in words; nothing is touched.
  void badTextFilesAreSaid() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QTemporaryDir texts;
    const QString good = paragraphs(texts, QStringLiteral("good.txt"), QStringLiteral("sat on"), 20);
    QVERIFY(!page->loadTextFiles({good, write_file(texts, QStringLiteral("empty.txt"), "\n  \n")}));
    QVERIFY2(page->message()->text().contains(QStringLiteral("empty.txt is empty")), qPrintable(page->message()->text()));
    QVERIFY(!page->textData()->hasData());
    QVERIFY(!page->loadTextFiles({write_file(texts, QStringLiteral("image.png"), QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16))}));
    QVERIFY2(page->message()->text().contains(QStringLiteral("image.png is not a plain UTF-8 text file")),
             qPrintable(page->message()->text()));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("Choose one or more text files")), qPrintable(page->message()->text()));
    // A good file after bad ones: read as usual.
    QVERIFY(page->loadTextFiles({good}));
    QVERIFY(page->message()->text().isEmpty());
    // A run folder under a file cannot be made.
    page->textData()->setRunFolder(good + QStringLiteral("/run"));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("is a file, not a folder")), qPrintable(page->message()->text()));
    // A folder of the user's (not empty, not a run) is refused, and left as it was.
    QDir(texts.path()).mkdir(QStringLiteral("mine"));
    const QString mine = write_file(texts, QStringLiteral("mine/letter.txt"), "keep me\n");
    page->textData()->setRunFolder(QDir(texts.path()).filePath(QStringLiteral("mine")));
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("mine")), qPrintable(page->message()->text()));
    QCOMPARE(QDir(texts.path() + QStringLiteral("/mine")).entryList(QDir::NoDotAndDotDot | QDir::AllEntries), QStringList{QStringLiteral("letter.txt")});
    QFile kept(mine);
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), QByteArray("keep me\n"));
    // A model without its masked-LM head cannot be adapted: said before anything runs.
    RandomModelSpec spec = test::small_bert_spec(12, 0.02f);
    spec.labels = {"negative", "positive"};  // a sequence classifier: no masked-LM head
    const fs::path classifier = fs::path(texts.path().toStdString()) / "classifier";
    write_random_model(classifier, spec);
    QVERIFY(load(window, classifier));
    page->textData()->setRunFolder(QString());
    page->start();
    QVERIFY(!page->job()->running());
    QVERIFY2(page->message()->text().contains(QStringLiteral("masked-language-model head")), qPrintable(page->message()->text()));
  }

  void saveIsSuggestedBesideTheData() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QTemporaryDir data;
    QVERIFY(page->loadCsv(numbered_reviews(data, 10)));
    QCOMPARE(page->suggestedSaveFolder(), data.filePath(QStringLiteral("fine-tuned-model")));
    QVERIFY(QDir(data.path()).mkdir(QStringLiteral("fine-tuned-model")));
    QCOMPARE(page->suggestedSaveFolder(), data.filePath(QStringLiteral("fine-tuned-model-2")));
    QTemporaryDir tagged;
    QVERIFY(page->loadTaggedFile(conll(tagged, QStringLiteral("t.conll"), 4)));
    QCOMPARE(page->suggestedSaveFolder(), tagged.filePath(QStringLiteral("fine-tuned-model")));
  }

  // Export training script (issue 16): the button writes the job set up in the view as `bertscope-cli train
  // --export-script` does, for each task: Python that py_compile accepts, whose JOB carries the task, the model, the
  // data files, the columns and label names, the hyper-parameters and the seed. A job without its training file says
  // what is missing and writes nothing.
  void exportTrainingScript() {
    if (!QFileInfo::exists(QStringLiteral("/usr/bin/python3"))) QSKIP("no /usr/bin/python3");
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QTemporaryDir out, data;
    const std::string model = fs::absolute(mlm_).lexically_normal().string();
    auto path = [](const QString& p) { return QFileInfo(p).absoluteFilePath().toStdString(); };
    bool compiled = false;

    page->setTask(FineTuneTask::TokenClassification);
    const QString none = out.filePath(QStringLiteral("none.py"));
    QVERIFY(!page->exportScript(none));
    QVERIFY(!QFileInfo::exists(none));
    QVERIFY(page->message()->isError());
    QVERIFY2(page->message()->text().contains(QStringLiteral("no training file yet; choose a CoNLL")), qPrintable(page->message()->text()));

    // Sentence classification with renamed labels, through the button and its Save dialog (train.py beside the data).
    const QString csv = numbered_reviews(data, 10);
    QVERIFY(page->loadCsv(csv));
    QVERIFY(page->setLabelName(0, QStringLiteral("negative")));
    QVERIFY(page->setLabelName(1, QStringLiteral("positive")));
    page->setEpochs(4);
    page->setLearningRate(3e-5);
    page->setMaxLength(64);
    page->setPatience(2);
    auto* seed = page->findChild<QSpinBox*>(QStringLiteral("seed"));
    QVERIFY(seed);
    seed->setValue(7);
    const QString byButton = data.filePath(QStringLiteral("train.py"));  // the suggestion, taken
    QString suggested;
    QTimer answer;  // the dialog is modal: answer it from inside its own event loop
    connect(&answer, &QTimer::timeout, this, [&] {
      for (QWidget* w : QApplication::topLevelWidgets())
        if (auto* dialog = qobject_cast<QFileDialog*>(w); dialog && dialog->isVisible()) {
          answer.stop();
          suggested = dialog->selectedFiles().value(0);
          static_cast<QDialog*>(dialog)->accept();  // QFileDialog::accept() checks the name, asks about replacing
        }
    });
    answer.start(50);
    QVERIFY(page->exportScriptButton()->isEnabled());
    page->exportScriptButton()->click();
    answer.stop();
    QCOMPARE(suggested, byButton);
    QVERIFY2(QFileInfo::exists(byButton), qPrintable(page->message()->text()));
    QVERIFY2(page->message()->text().contains(QStringLiteral("Wrote ") + byButton), qPrintable(page->message()->text()));
    nlohmann::json job = python_job(byButton, &compiled);
    QVERIFY(compiled);
    QString wrong = job_differences(job, {{"task", "classification"}, {"model", model}, {"revision", ""},
                                          {"train_file", path(csv)}, {"validation_file", ""}, {"validation_share", 0.2},
                                          {"text_column", "text"}, {"label_column", "label"}, {"delimiter", ","},
                                          {"has_header", true}, {"labels", {"0", "1"}}, {"label_names", {"negative", "positive"}},
                                          {"out", path(data.filePath(QStringLiteral("fine-tuned-model")))},
                                          {"epochs", 4}, {"learning_rate", 3e-5}, {"max_length", 64}, {"seed", 7}, {"patience", 2}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // Token classification with a validation file.
    const QString train = conll(data, QStringLiteral("export.conll"), 10), dev = conll(data, QStringLiteral("export-dev.conll"), 4, 10);
    QVERIFY(page->loadTaggedFile(train));
    QVERIFY(page->loadTaggedValidation(dev));
    const QString ner = out.filePath(QStringLiteral("ner.py"));
    QVERIFY2(page->exportScript(ner), qPrintable(page->message()->text()));
    job = python_job(ner, &compiled);
    QVERIFY(compiled);
    wrong = job_differences(job, {{"task", "ner"}, {"model", model}, {"train_file", path(train)}, {"validation_file", path(dev)},
                                  {"validation_share", 0}, {"labels", {"B-LOC", "B-PER", "I-PER", "O"}}, {"epochs", 4},
                                  {"max_length", 64}, {"seed", 7}, {"patience", 2}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // Question answering: the windows a run here uses.
    const QString squad = squad_file(data, QStringLiteral("export-squad.json"), 6, 0, 1);
    QVERIFY(page->loadQaFile(squad));
    const QString qa = out.filePath(QStringLiteral("qa.py"));
    QVERIFY2(page->exportScript(qa), qPrintable(page->message()->text()));
    job = python_job(qa, &compiled);
    QVERIFY(compiled);
    const QaOptions windows = qa_training_options(std::min(64, window.engine()->model()->max_tokens));
    wrong = job_differences(job, {{"task", "qa"}, {"train_file", path(squad)}, {"validation_share", 0.2},
                                  {"max_length", windows.max_seq_len}, {"doc_stride", windows.doc_stride}, {"seed", 7}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // Masked LM on my text: the text files; no early stopping (the view has none for it).
    const QString a = paragraphs(data, QStringLiteral("export-a.txt"), QStringLiteral("sat on"), 6),
                  b = paragraphs(data, QStringLiteral("export-b.txt"), QStringLiteral("likes"), 6);
    QVERIFY(page->loadTextFiles({a, b}));
    const QString mlm = out.filePath(QStringLiteral("mlm.py"));
    QVERIFY2(page->exportScript(mlm), qPrintable(page->message()->text()));
    job = python_job(mlm, &compiled);
    QVERIFY(compiled);
    wrong = job_differences(job, {{"task", "mlm"}, {"model", model}, {"text_files", {path(a), path(b)}},
                                  {"validation_share", 0.2}, {"epochs", 4}, {"learning_rate", 3e-5}, {"max_length", 64},
                                  {"patience", 0}, {"out", path(data.filePath(QStringLiteral("adapted-model")))}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));

    // A model from the Hub's cache is named by its id and the commit it was at, which any machine can download.
    const fs::path snapshot = fs::path(out.path().toStdString()) / "hub" / "models--someone--tiny-bert" / "snapshots" / "0123abcd";
    fs::create_directories(snapshot.parent_path());
    fs::copy(mlm_, snapshot, fs::copy_options::recursive);
    QVERIFY(load(window, snapshot));
    const QString hub = out.filePath(QStringLiteral("hub.py"));
    QVERIFY2(page->exportScript(hub), qPrintable(page->message()->text()));
    job = python_job(hub, &compiled);
    QVERIFY(compiled);
    wrong = job_differences(job, {{"task", "mlm"}, {"model", "someone/tiny-bert"}, {"revision", "0123abcd"}});
    QVERIFY2(wrong.isEmpty(), qPrintable(wrong));
  }

  // Walkthrough findings: with a token-classification run's results on screen (charts, scores per entity type, a
  // tried sentence highlighted) and the message line's banner above them, the view still fits 1024 x 700: no scroll
  // bar; the Validation chart's y axis has room for each tick's label (labels elide to "…" when ticks are closer than
  // a line of text), and its markers are small.
  void nerResultsFit1024x700() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1024, 700)));
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("fit-ner.conll"), 30)));
    page->setEpochs(2);
    page->setLearningRate(2e-3);
    QVERIFY(train(page));
    page->trySentence(QStringLiteral("Ada Smith lives in Oslo ."));
    QTRY_COMPARE_WITH_TIMEOUT(page->tryTags()->rowCount(), 6, 30000);
    QVERIFY(page->tryEntities()->isVisibleTo(page));
    QVERIFY(page->message()->isVisible() && !page->message()->text().isEmpty());  // the banner above the charts
    window.resize(1024, 700);
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    QCOMPARE(window.size(), QSize(1024, 700));
    QScrollArea* scroll = page->scrollArea();
    QVERIFY2(!scroll->verticalScrollBar()->isVisible() && !scroll->horizontalScrollBar()->isVisible(),
             qPrintable(QStringLiteral("content needs %1 x %2, the view has %3 x %4")
                            .arg(scroll->widget()->minimumSizeHint().width()).arg(scroll->widget()->minimumSizeHint().height())
                            .arg(scroll->viewport()->width()).arg(scroll->viewport()->height())));
    QChart* chart = page->validationChart()->chart();
    auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).value(0));
    QVERIFY(y);
    const double pixelsPerTick = chart->plotArea().height() * y->tickInterval() / (y->max() - y->min());
    const int lineHeight = QFontMetrics(y->labelsFont()).height();
    QVERIFY2(pixelsPerTick >= lineHeight, qPrintable(QStringLiteral("%1 px between ticks, labels %2 px high").arg(pixelsPerTick).arg(lineHeight)));
    for (QAbstractSeries* series : chart->series()) {
      auto* line = qobject_cast<QLineSeries*>(series);
      QVERIFY(line && line->pointsVisible());
      QVERIFY2(line->markerSize() <= 6, qPrintable(line->name()));
    }
    // A chart at its smallest keeps its labels too: fewer ticks, not elided ones.
    QLineSeries scores;
    QChartView* small = chart_view(QStringLiteral("Validation"), {&scores}, QStringLiteral("epoch"), nullptr);
    small->resize(small->minimumSize());
    small->show();
    QVERIFY(QTest::qWaitForWindowExposed(small));
    fit_axes(small, 3.4, -0.05, 1.05);
    for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
    auto* smallY = qobject_cast<QValueAxis*>(small->chart()->axes(Qt::Vertical).value(0));
    const double smallPixels = small->chart()->plotArea().height() * smallY->tickInterval() / (smallY->max() - smallY->min());
    QVERIFY2(smallPixels >= lineHeight, qPrintable(QStringLiteral("%1 px between ticks at the smallest").arg(smallPixels)));
    QCOMPARE(smallY->min(), -0.05);
    QCOMPARE(smallY->max(), 1.05);
    small->chart()->removeSeries(&scores);
    delete small;
  }

  // Every task's view fits 1024 x 700 without scroll bars, and scroll (rather than squeeze) at 800 x 600.
  void bothTasksFitAndScroll() {
    MainWindow window;
    QVERIFY(load(window, mlm_));
    FineTunePage* page = window.fineTunePage();
    QVERIFY(show_fine_tune(window, QSize(1024, 700)));
    auto settle = [] { for (int i = 0; i < 5; ++i) QCoreApplication::processEvents(); };
    QVERIFY(page->loadCsv(numbered_reviews(dir_, 30)));
    QVERIFY(page->loadTaggedFile(conll(dir_, QStringLiteral("fit.conll"), 10)));
    QVERIFY(page->loadQaFile(squad_file(dir_, QStringLiteral("fit.json"), 10, 0, 1)));  // a skipped entry listed too
    QVERIFY(page->loadTextFiles({paragraphs(dir_, QStringLiteral("fit-a.txt"), QStringLiteral("sat on"), 10),
                                 paragraphs(dir_, QStringLiteral("fit-b.txt"), QStringLiteral("likes"), 10)}));
    for (FineTuneTask task : {FineTuneTask::SentenceClassification, FineTuneTask::TokenClassification,
                              FineTuneTask::QuestionAnswering, FineTuneTask::MaskedLanguageModel}) {
      page->setTask(task);
      window.resize(1024, 700);
      settle();
      QCOMPARE(window.size(), QSize(1024, 700));
      QVERIFY(!page->scrollArea()->horizontalScrollBar()->isVisible() && !page->scrollArea()->verticalScrollBar()->isVisible());
      for (QGroupBox* box : page->findChildren<QGroupBox*>())
        QVERIFY2(box->width() >= box->minimumSizeHint().width() && box->height() >= box->minimumSizeHint().height(),
                 qPrintable(box->title()));
      window.resize(800, 600);
      settle();
      QVERIFY(page->scrollArea()->horizontalScrollBar()->isVisible() || page->scrollArea()->verticalScrollBar()->isVisible());
    }
  }
};

QTEST_MAIN(TestGuiFineTuneTasks)
#include "test_gui_fine_tune_tasks.moc"
