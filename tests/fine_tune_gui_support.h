#pragma once
// What the fine-tune view's GUI tests share (test_gui_fine_tune_tasks, test_gui_masked_lm): a model window, data
// files written on the fly (CSV, CoNLL, SQuAD, plain text), a run to its end, a save, an exported script's job.
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


namespace fine_tune_test {
using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

inline constexpr int kWait = 120000;  // ms: a few epochs on a tiny model, on a busy 2-core machine

inline QString q(const fs::path& p) { return QString::fromStdString(p.string()); }

inline bool load(MainWindow& window, const fs::path& folder) {
  QSignalSpy loaded(window.engine(), &EngineClient::loaded);
  window.openModel(q(folder));
  return loaded.wait(30000) || loaded.count() > 0;
}

inline QString write_file(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
  const QString path = dir.filePath(name);
  QFile f(path);
  f.open(QIODevice::WriteOnly);
  f.write(bytes);
  return path;
}

// Reviews labelled 0 and 1, as the shared sentiment sentences are.
inline QString numbered_reviews(const QTemporaryDir& dir, int per_class) {
  QByteArray csv = "text,label\n";
  for (int i = 0; i < per_class; ++i)
    csv += QStringLiteral("the food was good %1,1\nthe food was bad %1,0\n").arg(i).toUtf8();
  return write_file(dir, QStringLiteral("numbered.csv"), csv);
}

// A tiny NER set in CoNLL: people (two words) and places in a few templates.
inline QString conll(const QTemporaryDir& dir, const QString& name, int sentences, int offset = 0) {
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
inline QString squad_file(const QTemporaryDir& dir, const QString& name, int paragraphs, int offset, int unanswerable) {
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
inline std::vector<std::pair<QChar, QColor>> highlighted_characters(QTextBrowser* view) {
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

inline nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

inline bool train(FineTunePage* page) {
  QSignalSpy finished(page->job(), &TrainingJob::finished);
  page->start();
  if (!page->job()->running()) return false;
  return (finished.wait(kWait) || finished.count() > 0) && finished.first().at(1).toString().isEmpty();
}

// Short paragraphs, one a line, over a few words: text a tiny model learns something from in a few steps.
inline QString paragraphs(const QTemporaryDir& dir, const QString& name, const QString& verb, int lines) {
  const QStringList animals{QStringLiteral("cat"), QStringLiteral("dog"), QStringLiteral("bird"), QStringLiteral("fish")};
  const QStringList places{QStringLiteral("mat"), QStringLiteral("house"), QStringLiteral("tree"), QStringLiteral("river")};
  QByteArray text;
  for (int i = 0; i < lines; ++i)
    text += QStringLiteral("the %1 %2 the %3 .\n").arg(animals[i % 4], verb, places[(i / 4) % 4]).toUtf8();
  return write_file(dir, name, text);
}

// The JOB literal of an exported training script, as JSON (null when python3 cannot read it); `compiled` tells whether
// `python3 -m py_compile` accepts the whole script.
inline nlohmann::json python_job(const QString& script, bool* compiled) {
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
inline QString job_differences(const nlohmann::json& job, const nlohmann::json& expected) {
  QStringList wrong;
  for (const auto& [key, value] : expected.items())
    if (!job.is_object() || !job.contains(key) || job[key] != value)
      wrong << QString::fromStdString(key + ": " + (job.is_object() && job.contains(key) ? job[key].dump() : "missing") +
                                      ", expected " + value.dump());
  return wrong.join(QStringLiteral("; "));
}

// A small masked-LM model, "start" in `dir`, with BERT's initialisation (std 0.02): a few steps on a text already show
// in its held-out accuracy.
inline fs::path start_model(const QTemporaryDir& dir, unsigned seed) {
  const fs::path start = fs::path(dir.path().toStdString()) / "start";
  write_random_model(start, test::small_bert_spec(seed, 0.02f));
  return start;
}

// The window at `size` with the Fine-tune view in front, exposed (offscreen): what the layout checks look at.
inline bool show_fine_tune(MainWindow& window, QSize size) {
  window.resize(size);
  window.show();
  window.tabs()->setCurrentWidget(window.fineTunePage());
  return QTest::qWaitForWindowExposed(&window);
}

// The vertical extent, in pixels, of `series`' colour through its point `index` on the chart as drawn: the diameter
// of the marker there (the line itself is 2 pixels thick).
inline int marker_height(QChartView* view, QLineSeries* series, int index) {
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

inline fs::path save(FineTunePage* page, const QTemporaryDir& dir, const QString& name) {
  QSignalSpy saved(page->job(), &TrainingJob::saved);
  const QString folder = dir.filePath(name);
  page->saveTo(folder);
  if (!(saved.wait(30000) || saved.count() > 0) || !saved.first().at(1).toString().isEmpty()) return {};
  return fs::path(folder.toStdString());
}
// Each suite's initTestCase: QSettings in test mode and empty, and a small random masked-LM model in `dir` (its path).
inline fs::path prepare_test_case(const QTemporaryDir& dir) {
  QStandardPaths::setTestModeEnabled(true);
  QSettings().clear();
  const fs::path mlm = fs::path(dir.path().toStdString()) / "mlm";
  write_random_model(mlm, test::small_bert_spec(11, 0.5f));
  return mlm;
}

}  // namespace fine_tune_test
