// The desktop app and the Hugging Face Hub, offscreen, against the stand-in Hub on 127.0.0.1 (tests/hub/
// fake_hub.py): a download on its own thread with progress signals and a cancel midway (nothing in snapshots/,
// the window's event loop running throughout), the "Open from Hugging Face…" dialog (suggestions with sizes, a
// progress bar with MB/s, Cancel, then the model opened), the window's File menu action (Ctrl+Shift+O), a Hub id
// opened from the window (downloaded first, then remembered by its id among the recent models), and the cache
// manager (sizes, Open, Delete).
#include <QAction>
#include <QCompleter>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTimer>
#include <QtTest>
#include <filesystem>

#include "cache_manager.h"
#include "hub/fake_hub.h"
#include "hub/protocol.h"
#include "hub_dialog.h"
#include "hub_download.h"
#include "main_window.h"
#include "model/random_model.h"
#include "test_support.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {
constexpr int kWait = 30000;  // ms
}

class TestHubGui : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path bert_, cache_;
  std::unique_ptr<test::FakeHub> hub_;

  fs::path snapshot(const std::string& id, const std::string& seed) const {
    return cache_ / hub::repo_folder_name(id) / "snapshots" / test::fake_commit(seed);
  }
  bool noSnapshot(const std::string& id) const {
    const fs::path s = cache_ / hub::repo_folder_name(id) / "snapshots";
    return !fs::exists(s) || fs::is_empty(s);
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
    QSettings().clear();
    for (const char* v : {"HF_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN_PATH", "HUGGINGFACE_HUB_CACHE"}) qunsetenv(v);
    const fs::path base = tmp_.path().toStdString();
    qputenv("HF_HOME", QByteArray::fromStdString((base / "hf-home").string()));
    bert_ = base / "bert";
    write_random_model(bert_, test::tiny_model_spec(tmp_));
    hub_ = std::make_unique<test::FakeHub>(base / "server", std::vector<test::FakeRepo>{
        {"test/gui-bert", bert_, test::fake_commit("gui")},
        {"test/gui-slow", bert_, test::fake_commit("slow"), {}, false, {}, {}, {}, {"model.safetensors"}},
        {"test/gui-window", bert_, test::fake_commit("window")},
    }, "");
    if (!hub_->running()) QSKIP(qPrintable(hub_->why_not()));
    cache_ = base / "cache";
    qputenv("HF_ENDPOINT", QByteArray::fromStdString(hub_->endpoint()));
    qputenv("HF_HUB_CACHE", QByteArray::fromStdString(cache_.string()));
  }

  void downloadWithProgressAndCancel() {
    HubDownload job;
    QSignalSpy progress(&job, &HubDownload::progress), finished(&job, &HubDownload::finished), failed(&job, &HubDownload::failed);
    QVERIFY(job.start("test/gui-bert"));
    QVERIFY(!job.start("test/gui-bert"));  // one at a time
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() + failed.count() > 0, kWait);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
    QCOMPARE(finished.first().at(0).toString(), QString::fromStdString(snapshot("test/gui-bert", "gui").string()));
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.last().at(0).toLongLong(), progress.last().at(1).toLongLong());  // done == total
    QVERIFY(progress.last().at(1).toLongLong() > 0);

    // A slow one, cancelled once bytes of the weights arrive: the window's event loop turns all along.
    progress.clear();
    int ticks = 0;
    QTimer ticker;
    connect(&ticker, &QTimer::timeout, [&] { ++ticks; });
    ticker.start(10);
    QVERIFY(job.start("test/gui-slow"));
    QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty() && progress.last().at(4).toString() == "model.safetensors" &&
                                 progress.last().at(0).toLongLong() > 0, kWait);
    QVERIFY(job.running());
    job.cancel();
    QTRY_VERIFY_WITH_TIMEOUT(!failed.isEmpty(), kWait);
    QCOMPARE(failed.first().at(1).toBool(), true);  // cancelled
    QVERIFY(ticks > 5);
    QVERIFY(noSnapshot("test/gui-slow"));
  }

  void dialogDownloadsAndOpens() {
    HubDialog dialog;
    dialog.show();
    // Suggestions: the cached model with its size, then the seed models with theirs; the completer has them too.
    QStringList shown;
    for (int i = 0; i < dialog.suggestions()->count(); ++i) shown << dialog.suggestions()->item(i)->text();
    QVERIFY2(shown.first().startsWith("test/gui-bert  (in the cache, "), qPrintable(shown.join('|')));
    for (const char* seed : {"bert-base-uncased", "bert-large-uncased", "distilbert-base-uncased-finetuned-sst-2-english",
                             "distilbert-base-cased-distilled-squad", "dslim/bert-base-NER", "distilroberta-base"})
      QVERIFY2(shown.filter(QString(seed) + "  (≈ ").size() == 1, seed);
    QVERIFY(dialog.idField()->completer());
    dialog.idField()->completer()->setCompletionPrefix("NER");
    QCOMPARE(dialog.idField()->completer()->currentCompletion(), QString("dslim/bert-base-NER"));

    // A bad id is refused in words; a download shows its progress in MB/s and can be cancelled.
    dialog.setModel("not a model id");
    dialog.startDownload();
    QVERIFY(dialog.statusLabel()->text().contains("is not a Hugging Face model id"));
    QSignalSpy ready(&dialog, &HubDialog::modelReady);
    dialog.setModel("test/gui-slow");
    QTest::mouseClick(dialog.downloadButton(), Qt::LeftButton);
    QVERIFY(dialog.progressBar()->isVisible());
    QVERIFY(dialog.cancelButton()->isEnabled() && !dialog.downloadButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(dialog.statusLabel()->text().contains("MB/s") && dialog.progressBar()->value() > 0, kWait);
    QTest::mouseClick(dialog.cancelButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(dialog.statusLabel()->text().startsWith("Cancelled"), kWait);
    QVERIFY(!dialog.progressBar()->isVisible() && dialog.downloadButton()->isEnabled());
    QVERIFY(noSnapshot("test/gui-slow"));
    // Again: it resumes and completes, and the window is asked to open it.
    QTest::mouseClick(dialog.downloadButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty(), kWait);
    QCOMPARE(ready.first().first().toString(), QString("test/gui-slow"));
    QVERIFY(fs::exists(snapshot("test/gui-slow", "slow") / "model.safetensors"));
  }

  void windowOpensHubModels() {
    MainWindow window;
    window.show();
    // File > Open from Hugging Face… (Ctrl+Shift+O), beside Open model folder…
    auto* action = window.findChild<QAction*>("openFromHub");
    QVERIFY(action);
    QCOMPARE(action->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    QVERIFY(window.findChild<QAction*>("hubCacheManager"));
    action->trigger();
    auto* dialog = window.findChild<HubDialog*>("hubDialog");
    QVERIFY(dialog && dialog->isVisible());
    dialog->hide();

    // A Hub id not in the cache: downloaded (with the dialog's progress), then loaded and remembered by its id.
    QSignalSpy loaded(window.engine(), &EngineClient::loaded);
    window.openModel("test/gui-window");
    QVERIFY(dialog->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(window.engine()->model() &&
                                 window.engine()->model()->info.folder == snapshot("test/gui-window", "window"), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(window.recentModels().value(0), QString("test/gui-window"), kWait);
    // From the cache (no dialog), by its id.
    window.openModel("test/gui-bert");
    QTRY_VERIFY_WITH_TIMEOUT(window.engine()->model()->info.folder == snapshot("test/gui-bert", "gui"), kWait);
    QTRY_COMPARE_WITH_TIMEOUT(window.recentModels().value(0), QString("test/gui-bert"), kWait);
  }

  void cacheManager() {
    CacheManager manager;
    QStringList ids;
    for (int r = 0; r < manager.table()->rowCount(); ++r) ids << manager.table()->item(r, 0)->text();
    QCOMPARE(ids, (QStringList{"test/gui-bert", "test/gui-slow", "test/gui-window"}));
    QVERIFY(manager.table()->item(0, 1)->text().endsWith("KiB"));
    QCOMPARE(manager.table()->item(0, 3)->text(), QString("complete"));
    QSignalSpy open(&manager, &CacheManager::openRequested);
    manager.table()->selectRow(0);
    QCOMPARE(manager.selectedId(), QString("test/gui-bert"));
    QTest::mouseClick(manager.findChild<QPushButton*>("cacheOpen"), Qt::LeftButton);
    QCOMPARE(open.count(), 1);
    QCOMPARE(open.first().first().toString(), QString("test/gui-bert"));
    QVERIFY(manager.removeModel("test/gui-slow", false));
    QCOMPARE(manager.table()->rowCount(), 2);
    QVERIFY(!fs::exists(cache_ / "models--test--gui-slow"));
    QVERIFY(manager.statusLabel()->text().startsWith("Deleted test/gui-slow"));
  }
};

QTEST_MAIN(TestHubGui)
#include "test_hub_gui.moc"
