// The attention page's head view, colour scales and export of every layer and head, driven offscreen (issue 13):
// one colour per head and toggles that change what is drawn (checked on the view's state and on the batches it
// paints), the sentence-pair filters, a 512-token text that stays fast, and exports whose every value equals the
// engine's attention, that never overwrite a file and that leave nothing behind on a full disk.
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sys/resource.h>

#include "attention_export.h"
#include "attention_head_view.h"
#include "attention_legend.h"
#include "attention_page.h"
#include "core/json_io.h"
#include "main_window.h"
#include "model/random_model.h"
#include "page_support.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;
using Side = HeadViewModel::Side;

namespace {
constexpr int kWait = 30000;  // ms
const QString kFirst = QStringLiteral("the cat sat on the mat"), kSecond = QStringLiteral("a dog slept under the old table");

fs::path make_model(const QTemporaryDir& dir) {
  RandomModelSpec spec;
  spec.vocab_file = std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt";
  spec.layers = 3;
  spec.hidden = 48;
  spec.heads = 4;
  spec.intermediate = 64;
  spec.seed = 11;
  spec.init_std = 0.5f;  // peaked attention: lines of very different weights
  const fs::path folder = fs::path(dir.path().toStdString()) / "model";
  write_random_model(folder, spec);
  return folder;
}

using test::FileSizeLimit;

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Names in `folder` that a staged write leaves while it runs (".NAME.bertscope-PID-N").
int staging_files(const fs::path& folder) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(folder)) n += entry.path().filename().string().find(".bertscope-") != std::string::npos;
  return n;
}

// The (head, from, to) triples a head view should draw with nothing hovered: every shown head's weights whose
// opacity reaches the threshold.
std::set<std::tuple<int, int, int>> expected_lines(const HeadViewModel& m) {
  std::set<std::tuple<int, int, int>> out;
  for (int h = 0; h < m.heads(); ++h)
    if (m.headShown(h))
      for (int q = 0; q < int(m.left().size()); ++q)
        for (int k = 0; k < int(m.right().size()); ++k)
          if (m.opacity(m.weight(h, q, k)) >= HeadViewModel::kMinOpacity) out.insert({h, q, k});
  return out;
}

std::set<int> heads_drawn(AttentionHeadCanvas* canvas) {
  std::set<int> heads;
  for (const auto& batch : canvas->batches()) {
    // Each batch is drawn in its head's colour, at the opacity of its lines.
    const QColor want = HeadViewModel::headColor(batch.head);
    if (batch.color.rgb() != want.rgb()) return {-1};
    if (!batch.lines.empty()) heads.insert(batch.head);
  }
  return heads;
}
}  // namespace

class TestGuiAttention : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  fs::path model_;
  std::unique_ptr<MainWindow> window_;

  AttentionPage* page() { return window_->attentionPage(); }

  // The page showing kFirst / kSecond, its maps in.
  bool showPair() {
    page()->setText(kFirst, kSecond);
    // setText asks again even when the maps shown are already this pair's: wait for that reply too, or it lands
    // mid-test and clears the message line a test reads.
    return QTest::qWaitFor([&] { return !window_->engine()->busy() && !page()->data().empty() && page()->data().isPair(); }, kWait);
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    model_ = make_model(dir_);
    window_ = std::make_unique<MainWindow>();
    QSignalSpy loaded(window_->engine(), &EngineClient::loaded);
    window_->openModel(QString::fromStdString(model_.string()));
    QVERIFY(loaded.wait(kWait) || loaded.count() > 0);
    window_->resize(1280, 800);
  }

  void headViewDrawsEveryHeadInItsOwnColour() {
    QVERIFY(showPair());
    HeadViewPanel* view = page()->headView();
    HeadViewModel& m = view->model();
    QCOMPARE(m.heads(), 4);
    QCOMPARE(m.headsShown(), 4);
    std::set<QRgb> colours;
    for (int h = 0; h < 12; ++h) colours.insert(HeadViewModel::headColor(h).rgb());
    QCOMPARE(int(colours.size()), 12);  // bert-base's 12 heads: 12 colours

    // Every line the weights call for, and nothing else; each head in its own colour.
    std::set<std::tuple<int, int, int>> drawn;
    for (const HeadLine& line : m.lines()) drawn.insert({line.head, line.from, line.to});
    QCOMPARE(drawn, expected_lines(m));
    QCOMPARE(heads_drawn(view->canvas()), (std::set<int>{0, 1, 2, 3}));
    for (const auto& batch : view->canvas()->batches())  // opacity = weight / heads shown, as bertviz
      QVERIFY(batch.color.alpha() >= 1);

    // A click on a swatch hides that head; the lines and what is painted lose it.
    page()->showHeadView();
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QTest::mouseClick(view->swatches(), Qt::LeftButton, {}, view->swatches()->swatchRect(1).center());
    QVERIFY(!m.headShown(1));
    QCOMPARE(heads_drawn(view->canvas()), (std::set<int>{0, 2, 3}));
    for (const HeadLine& line : m.lines()) QVERIFY(line.head != 1);
    drawn.clear();
    for (const HeadLine& line : m.lines()) drawn.insert({line.head, line.from, line.to});
    QCOMPARE(drawn, expected_lines(m));  // the other heads' lines now at opacity weight / 3
    // A double-click shows that head alone; again, every head.
    QTest::mouseDClick(view->swatches(), Qt::LeftButton, {}, view->swatches()->swatchRect(2).center());
    QCOMPARE(m.headsShown(), 1);
    QVERIFY(m.headShown(2));
    QCOMPARE(heads_drawn(view->canvas()), (std::set<int>{2}));
    m.toggleHead(2);  // the last head shown stays
    QVERIFY(m.headShown(2));
    QTest::mouseDClick(view->swatches(), Qt::LeftButton, {}, view->swatches()->swatchRect(2).center());
    QCOMPARE(m.headsShown(), 4);
    // All / None.
    m.showAllHeads(false);
    QVERIFY(m.lines().empty());
    m.showAllHeads(true);
    QCOMPARE(heads_drawn(view->canvas()), (std::set<int>{0, 1, 2, 3}));

    // Drawn lines are kept between paints (no per-frame rebuilding).
    const QLineF* before = view->canvas()->batches().front().lines.data();
    view->canvas()->repaint();
    QCOMPARE(view->canvas()->batches().front().lines.data(), before);

    // Hovering a query shows only its lines; a key, only the lines into it.
    QTest::mouseMove(view->canvas(), view->canvas()->tokenCenter(Side::Left, 3));
    QTRY_COMPARE(m.hoverRow(), 3);
    QVERIFY(!m.lines().empty());
    for (const HeadLine& line : m.lines()) QCOMPARE(line.from, 3);
    QTest::mouseMove(view->canvas(), view->canvas()->tokenCenter(Side::Right, 2));
    QTRY_VERIFY(m.hoverSide() == Side::Right && m.hoverRow() == 2);
    for (const HeadLine& line : m.lines()) QCOMPARE(line.to, 2);
    QTest::mouseMove(view->canvas(), QPoint(view->canvas()->width() / 2, 2));
    QTRY_COMPARE(m.hoverRow(), -1);
  }

  void layersStepAndDrag() {
    QVERIFY(showPair());
    HeadViewPanel* view = page()->headView();
    HeadViewModel& m = view->model();
    page()->select(0, 0);
    QCOMPARE(m.layer(), 0);
    view->layerSlider()->setValue(2);  // dragging the slider ends here
    QCOMPARE(m.layer(), 2);
    // The weights drawn are layer 2's.
    for (const HeadLine& line : m.lines()) {
      const std::vector<float> map = page()->data().map(2, line.head);
      QCOMPARE(line.weight, map[size_t(m.left()[size_t(line.from)] * page()->data().size() + m.right()[size_t(line.to)])]);
    }
    view->canvas()->setFocus();
    QTest::keyClick(view->canvas(), Qt::Key_Left);
    QCOMPARE(m.layer(), 1);
    QCOMPARE(view->layerSlider()->value(), 1);
    QTest::keyClick(view->canvas(), Qt::Key_Left);
    QTest::keyClick(view->canvas(), Qt::Key_Left);  // stays at the first
    QCOMPARE(m.layer(), 0);
    QTest::keyClick(view->canvas(), Qt::Key_Right);
    QCOMPARE(m.layer(), 1);
    // The page follows: the map and the model view show the same layer.
    QCOMPARE(page()->mapLegend()->maximum(), [&] {
      const std::vector<float> map = page()->data().map(1, 0);
      return *std::max_element(map.begin(), map.end());
    }());
  }

  void pairFiltersKeepOnlyTheirSentences() {
    QVERIFY(showPair());
    HeadViewPanel* view = page()->headView();
    HeadViewModel& m = view->model();
    const AttentionData& data = page()->data();
    QVERIFY(view->filterBox()->isVisibleTo(view));
    // Sentence A is [CLS] the cat sat on the mat [SEP]: bertviz's split.
    int in_a = 0;
    for (int i = 0; i < data.size(); ++i) in_a += data.sentence(i) == 0;
    QCOMPARE(in_a, 8);
    QCOMPARE(data.label(0), QStringLiteral("[CLS]"));
    QCOMPARE(data.sentence(7), 0);  // the first [SEP]
    QCOMPARE(data.sentence(data.size() - 1), 1);

    struct Case { PairFilter filter; int from, to; };
    for (const Case c : {Case{PairFilter::AToB, 0, 1}, Case{PairFilter::BToA, 1, 0}, Case{PairFilter::AToA, 0, 0},
                         Case{PairFilter::BToB, 1, 1}}) {
      view->filterBox()->setCurrentIndex(view->filterBox()->findData(int(c.filter)));
      QCOMPARE(m.filter(), c.filter);
      for (int i : m.left()) QCOMPARE(data.sentence(i), c.from);
      for (int i : m.right()) QCOMPARE(data.sentence(i), c.to);
      int want_left = 0, want_right = 0;
      for (int i = 0; i < data.size(); ++i) want_left += data.sentence(i) == c.from, want_right += data.sentence(i) == c.to;
      QCOMPARE(int(m.left().size()), want_left);
      QCOMPARE(int(m.right().size()), want_right);
      QVERIFY(!m.lines().empty());
      for (const HeadLine& line : m.lines()) {
        QCOMPARE(data.sentence(m.left()[size_t(line.from)]), c.from);
        QCOMPARE(data.sentence(m.right()[size_t(line.to)]), c.to);
      }
      std::set<std::tuple<int, int, int>> drawn;
      for (const HeadLine& line : m.lines()) drawn.insert({line.head, line.from, line.to});
      QCOMPARE(drawn, expected_lines(m));
    }
    view->setFilter(PairFilter::All);
    QCOMPARE(int(m.left().size()), data.size());

    // One sentence: no filter to choose.
    view->setFilter(PairFilter::AToB);
    page()->setText(kFirst);
    QTRY_VERIFY_WITH_TIMEOUT(!page()->data().empty() && !page()->data().isPair(), kWait);
    QVERIFY(!view->filterBox()->isVisibleTo(view));
    QCOMPARE(m.filter(), PairFilter::All);
    QCOMPARE(int(m.left().size()), page()->data().size());
  }

  // 512 tokens x 12 heads (bert-base's), on made-up peaked attention: building and painting stay fast, and the
  // lines drawn are few compared with the 3 million weights.
  void longTextStaysResponsive() {
    const int T = 512, H = 12, L = 2;
    auto result = std::make_shared<AttentionResult>();
    result->layers = L, result->heads = H, result->tokens = T;
    for (int i = 0; i < T; ++i) {
      Token t;
      t.text = "tok" + std::to_string(i);
      t.sequence = i < T / 2 ? 0 : 1;
      result->encoding.tokens.push_back(t);
    }
    std::mt19937 rng(3);
    std::normal_distribution<float> logit(0.0f, 2.5f);
    for (int l = 0; l < L; ++l) {
      std::vector<float> maps(size_t(H) * T * T);  // (H, T, T), softmax rows
      for (size_t row = 0; row < size_t(H) * T; ++row) {
        float* p = maps.data() + row * T;
        double sum = 0;
        for (int k = 0; k < T; ++k) sum += p[k] = std::exp(logit(rng));
        for (int k = 0; k < T; ++k) p[k] = float(p[k] / sum);
      }
      result->maps.push_back(std::move(maps));
    }
    AttentionData data(result, false);
    HeadViewPanel view;
    view.resize(900, 700);
    QElapsedTimer timer;
    timer.start();
    view.setData(&data);
    const qint64 build_ms = timer.restart();
    view.canvas()->resize(view.canvas()->minimumSizeHint().width() + 300, view.canvas()->minimumSizeHint().height());
    QImage image(900, 700, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    {
      QPainter painter(&image);
      view.canvas()->render(&painter, {}, QRegion(0, 0, 900, 700));
    }
    const qint64 first_paint_ms = timer.restart();
    {
      QPainter painter(&image);
      view.canvas()->render(&painter, {}, QRegion(0, 0, 900, 700));
    }
    const qint64 paint_ms = timer.restart();
    view.model().setHover(Side::Left, 100);
    view.canvas()->hoverChanged();
    {
      QPainter painter(&image);
      view.canvas()->render(&painter, {}, QRegion(0, 0, 900, 700));
    }
    const qint64 hover_ms = timer.restart();
    view.setLayer(1);
    const qint64 layer_ms = timer.restart();
    const size_t lines = view.model().lines().size();
    view.model().setHover(Side::None, -1);
    const size_t all_lines = view.model().lines().size();
    qInfo("512 tokens x 12 heads: %zu of %d lines drawn; setData %lld ms, first paint %lld ms, repaint %lld ms, "
          "hovered paint %lld ms, layer change %lld ms",
          all_lines, H * T * T, (long long)build_ms, (long long)first_paint_ms, (long long)paint_ms, (long long)hover_ms,
          (long long)layer_ms);
    QVERIFY(lines > 0 && lines <= size_t(H * T));
    QVERIFY(all_lines < size_t(H) * T * T / 10);
    QVERIFY2(build_ms + first_paint_ms < 5000 && paint_ms < 2000 && hover_ms < 500 && layer_ms < 3000, "too slow");
  }

  void everyMapHasAColourScale() {
    QVERIFY(showPair());
    page()->select(1, 2);
    const std::vector<float> map = page()->data().map(1, 2);
    QCOMPARE(page()->mapLegend()->maximum(), *std::max_element(map.begin(), map.end()));
    // The model view has its own scale; the head view's says what line opacity means.
    QVERIFY(page()->findChildren<AttentionLegend*>().size() >= 3);
    QCOMPARE(page()->headView()->findChild<AttentionLegend*>()->headsShown(), page()->headView()->model().headsShown());
    // The exported PNG carries the scale under the map: white at 0 and dark at 1 on its bar.
    const QString png = dir_.filePath("map.png");
    QVERIFY(page()->exportPng(png));
    const QImage image(png);
    QCOMPARE(attention_color(0.0f), QColor(Qt::white));
    QVERIFY(attention_color(1.0f).lightness() < 120);
    // Under the map, the scale: its bar runs from white to the colour of weight 1.
    const QColor full = attention_color(1.0f);
    bool darkest = false;
    for (int y = image.height() - 40; y < image.height(); ++y)
      for (int x = 0; x < image.width(); ++x) {
        const QColor c = image.pixelColor(x, y);
        darkest = darkest || (std::abs(c.red() - full.red()) + std::abs(c.green() - full.green()) + std::abs(c.blue() - full.blue()) < 8);
      }
    QVERIFY(darkest);
  }

  void exportJsonEqualsTheEngine() {
    QVERIFY(showPair());
    const fs::path out = fs::path(dir_.path().toStdString()) / "all.json";
    QSignalSpy progress(page()->exporter(), &AttentionExporter::progress);
    QSignalSpy finished(page()->exporter(), &AttentionExporter::finished);
    QVERIFY(page()->exportAll(QString::fromStdString(out.string())));
    QVERIFY(finished.wait(kWait));
    QVERIFY2(finished.at(0).at(0).toString().isEmpty(), qPrintable(finished.at(0).at(0).toString()));
    QCOMPARE(progress.count(), 3);  // one per layer
    QCOMPARE(progress.last().at(0).toInt(), 3);
    QVERIFY(page()->message()->text().contains("all.json"));

    Session session(model_, {BackendKind::Cpu});
    const AttentionResult engine = attention(session.model(), session.tokenizer(), kFirst.toStdString(), kSecond.toStdString());
    const nlohmann::json file = nlohmann::json::parse(read_all(out));
    QCOMPARE(file["layers"].get<int>(), 3);
    QCOMPARE(file["heads"].get<int>(), 4);
    QCOMPARE(file["layer_indices"], nlohmann::json({0, 1, 2}));
    QCOMPARE(file["head_indices"], nlohmann::json({0, 1, 2, 3}));
    const int T = engine.tokens;
    QCOMPARE(int(file["tokens"].size()), T);
    for (int i = 0; i < T; ++i) QCOMPARE(file["tokens"][size_t(i)].get<std::string>(), engine.encoding.tokens[size_t(i)].text);
    QCOMPARE(int(file["attentions"].size()), 3);
    double worst = 0;
    for (int l = 0; l < 3; ++l) {
      QCOMPARE(int(file["attentions"][size_t(l)].size()), 4);
      for (int h = 0; h < 4; ++h) {
        const auto& map = file["attentions"][size_t(l)][size_t(h)];
        QCOMPARE(int(map.size()), T);
        for (int q = 0; q < T; ++q) {
          QCOMPARE(int(map[size_t(q)].size()), T);
          for (int k = 0; k < T; ++k)
            worst = std::max(worst, std::abs(map[size_t(q)][size_t(k)].get<double>() - engine.map(l, h)[size_t(q) * T + k]));
        }
      }
    }
    QVERIFY2(worst < 1e-6, qPrintable(QString::number(worst)));
    QCOMPARE(staging_files(out.parent_path()), 0);
  }

  void exportNpyEqualsTheEngine() {
    QVERIFY(showPair());
    const fs::path out = fs::path(dir_.path().toStdString()) / "arrays.npy", tokens = fs::path(out).replace_extension(".json");
    QSignalSpy finished(page()->exporter(), &AttentionExporter::finished);
    QVERIFY(page()->exportAll(QString::fromStdString(out.string())));
    QVERIFY(finished.wait(kWait));
    QVERIFY2(finished.at(0).at(0).toString().isEmpty(), qPrintable(finished.at(0).at(0).toString()));
    QCOMPARE(finished.at(0).at(1).toStringList().size(), 2);

    Session session(model_, {BackendKind::Cpu});
    const AttentionResult engine = attention(session.model(), session.tokenizer(), kFirst.toStdString(), kSecond.toStdString());
    const int T = engine.tokens;
    const std::string bytes = read_all(out);
    QVERIFY(bytes.compare(0, 6, "\x93NUMPY") == 0);
    const size_t header = 10 + size_t(uint8_t(bytes[8])) + (size_t(uint8_t(bytes[9])) << 8);
    const std::string dict = bytes.substr(10, header - 10);
    QVERIFY2(dict.find("'shape': (3, 4, " + std::to_string(T) + ", " + std::to_string(T) + ")") != std::string::npos, dict.c_str());
    QCOMPARE(bytes.size(), header + size_t(3 * 4 * T * T) * sizeof(float));
    std::vector<float> values(size_t(3 * 4 * T * T));
    std::memcpy(values.data(), bytes.data() + header, values.size() * sizeof(float));
    std::vector<float> expected;
    for (const auto& layer : engine.maps) expected.insert(expected.end(), layer.begin(), layer.end());
    QCOMPARE(test::normalised_error(values, expected) < 1e-6, true);

    const nlohmann::json side = nlohmann::json::parse(read_all(tokens));
    QCOMPARE(side["npy"].get<std::string>(), std::string("arrays.npy"));
    QCOMPARE(side["shape"], nlohmann::json({3, 4, T, T}));
    QCOMPARE(side["axes"], nlohmann::json({"layer", "head", "query", "key"}));
    QCOMPARE(int(side["tokens"].size()), T);
    QCOMPARE(side["tokens"][0].get<std::string>(), std::string("[CLS]"));
  }

  void exportNeverOverwrites() {
    QVERIFY(showPair());
    const fs::path folder = fs::path(dir_.path().toStdString());
    const fs::path existing = folder / "mine.json";
    { std::ofstream(existing) << "my own notes\n"; }
    QSignalSpy finished(page()->exporter(), &AttentionExporter::finished);
    QVERIFY(!page()->exportAll(QString::fromStdString(existing.string())));
    QVERIFY(page()->message()->isError());
    QVERIFY2(page()->message()->text().contains("already exists"), qPrintable(page()->message()->text()));
    QCOMPARE(read_all(existing), std::string("my own notes\n"));
    // A .npy whose tokens file would land on an existing .json: refused too, and neither file is made or touched.
    const fs::path npy = folder / "mine.npy";
    QVERIFY(!page()->exportAll(QString::fromStdString(npy.string())));
    QVERIFY(page()->message()->text().contains("mine.json"));
    QVERIFY(!fs::exists(npy));
    QCOMPARE(read_all(existing), std::string("my own notes\n"));
    QCOMPARE(staging_files(folder), 0);
    QTest::qWait(100);
    QCOMPARE(finished.count(), 0);  // nothing started
  }

  void exportOnAFullDiskSaysSoAndLeavesNothing() {
    QVERIFY(showPair());
    const fs::path folder = fs::path(dir_.path().toStdString()) / "full";
    fs::create_directories(folder);
    for (const char* name : {"big.json", "big.npy"}) {
      QSignalSpy finished(page()->exporter(), &AttentionExporter::finished);
      {
        FileSizeLimit limit(4096);  // the maps are ~12 KB as .npy and far more as JSON
        QVERIFY(page()->exportAll(QString::fromStdString((folder / name).string())));
        QVERIFY(finished.wait(kWait));
      }
      const QString error = finished.at(0).at(0).toString();
      QVERIFY2(error.contains("cannot write") && error.contains(name), qPrintable(error));
      QVERIFY(page()->message()->isError());
      QVERIFY(fs::is_empty(folder));  // no result, no half-written file, no temporary file
    }
  }

  void exportCanBeCancelled() {
    QVERIFY(showPair());
    const fs::path out = fs::path(dir_.path().toStdString()) / "cancelled.json";
    QSignalSpy finished(page()->exporter(), &AttentionExporter::finished);
    QVERIFY(page()->exportAll(QString::fromStdString(out.string())));
    page()->exporter()->cancel();
    QVERIFY(finished.wait(kWait));
    // A tiny model may finish before the cancel lands; either way, no partial file.
    if (!finished.at(0).at(0).toString().isEmpty()) {
      QVERIFY(finished.at(0).at(0).toString().contains("cancelled"));
      QVERIFY(!fs::exists(out));
    }
    QCOMPARE(staging_files(out.parent_path()), 0);
  }

  void cleanupTestCase() { window_.reset(); }
};

QTEST_MAIN(TestGuiAttention)
#include "test_gui_attention.moc"
