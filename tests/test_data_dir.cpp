// Where bertscope finds its data (core/data_dir.h): BERTSCOPE_DATA_DIR first, then share/bertscope beside the
// binary's folder or one further up, never a path compiled in. Checked on made-up layouts, on this build tree, and
// with bertscope-cli copied into an install-like prefix (prefix/bin, prefix/share/bertscope), as a .deb puts it.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/data_dir.h"
#include "core/error.h"

namespace fs = std::filesystem;
using bertscope::find_data_dir;

namespace {

fs::path make_dirs(const fs::path& path) {
  fs::create_directories(path);
  return path;
}

// What find_data_dir throws, or "" when it returns.
QString error_of(const fs::path& executable, const char* env) {
  try {
    find_data_dir(executable, env);
  } catch (const bertscope::Error& e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

struct Run {
  int exit_code = -1;
  QByteArray out, err;
};

// `cli ARGS` with BERTSCOPE_DATA_DIR set to `data_env` (unset when empty).
Run run(const fs::path& cli, const QStringList& args, const QString& data_env = {}) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.remove(QStringLiteral("BERTSCOPE_DATA_DIR"));
  if (!data_env.isEmpty()) env.insert(QStringLiteral("BERTSCOPE_DATA_DIR"), data_env);
  p.setProcessEnvironment(env);
  p.start(QString::fromStdString(cli.string()), args);
  if (!p.waitForFinished(120000)) return {};
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}

// The model folder `info default` reports.
std::string default_folder(const Run& r) {
  return nlohmann::json::parse(r.out.toStdString()).value("folder", std::string());
}

}  // namespace

class TestDataDir : public QObject {
  Q_OBJECT
 private slots:
  void installedAndBuildTreeLayouts() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    // An install: prefix/bin/bertscope -> prefix/share/bertscope.
    const fs::path installed = make_dirs(root / "usr" / "share" / "bertscope");
    QCOMPARE(find_data_dir(root / "usr" / "bin" / "bertscope", nullptr), installed);
    // A build tree: build/app/bertscope-cli and build/app/gui/bertscope -> build/share/bertscope.
    const fs::path build = make_dirs(root / "build" / "share" / "bertscope");
    QCOMPARE(find_data_dir(root / "build" / "app" / "bertscope-cli", nullptr), build);
    QCOMPARE(find_data_dir(root / "build" / "app" / "gui" / "bertscope", nullptr), build);
    // The nearest wins: a share/bertscope beside the binary's parent folder hides one further up.
    const fs::path nearer = make_dirs(root / "build" / "app" / "share" / "bertscope");
    QCOMPARE(find_data_dir(root / "build" / "app" / "gui" / "bertscope", nullptr), nearer);
    // No further than one folder up: a binary deeper down finds nothing.
    QVERIFY(!error_of(root / "build" / "a" / "b" / "c" / "bertscope", nullptr).isEmpty());
  }

  void environmentWinsWhenSet() {
    QTemporaryDir tmp;
    const fs::path root = tmp.path().toStdString();
    make_dirs(root / "usr" / "share" / "bertscope");
    const fs::path mine = make_dirs(root / "my-data");
    QCOMPARE(find_data_dir(root / "usr" / "bin" / "bertscope", mine.c_str()), mine);
    // Set but empty: as if unset.
    QCOMPARE(find_data_dir(root / "usr" / "bin" / "bertscope", ""), root / "usr" / "share" / "bertscope");
    // Set to something that is not a folder: an error naming the variable and the value, not a silent fallback.
    const QString error = error_of(root / "usr" / "bin" / "bertscope", (root / "missing").c_str());
    QVERIFY2(error.contains("BERTSCOPE_DATA_DIR") && error.contains(QString::fromStdString((root / "missing").string())),
             qPrintable(error));
  }

  void nothingFoundSaysWhereItLookedAndWhatToSet() {
    QTemporaryDir tmp;
    const fs::path binary = fs::path(tmp.path().toStdString()) / "opt" / "bin" / "bertscope-cli";
    const QString error = error_of(binary, nullptr);
    QVERIFY2(error.contains("BERTSCOPE_DATA_DIR") && error.contains(QString::fromStdString(binary.string())) &&
                 error.contains(QString::fromStdString((binary.parent_path().parent_path() / "share" / "bertscope").string())),
             qPrintable(error));
    QVERIFY(error_of({}, nullptr).contains("BERTSCOPE_DATA_DIR"));  // /proc/self/exe unreadable
  }

  // This test binary (build/tests/) finds the build tree's data: the link to resources/.
  void buildTreeFindsResources() {
    qunsetenv("BERTSCOPE_DATA_DIR");
    const fs::path data = bertscope::data_dir();
    QCOMPARE(data.filename().string(), std::string("bertscope"));
    QVERIFY(fs::equivalent(data, BERTSCOPE_TEST_RESOURCES));
  }

  // bertscope-cli copied into prefix/bin answers `default` from prefix/share/bertscope, as installed from the .deb;
  // copied where no data is, it says what to set instead of reaching back into the source tree.
  void copiedCliFindsDataBesideIt() {
    QTemporaryDir tmp;
    const fs::path prefix = fs::path(tmp.path().toStdString()) / "prefix";
    const fs::path cli = make_dirs(prefix / "bin") / "bertscope-cli";
    fs::copy_file(BERTSCOPE_CLI, cli);
    const fs::path data = make_dirs(prefix / "share" / "bertscope");
    fs::create_directory_symlink(fs::path(BERTSCOPE_TEST_RESOURCES) / "default-model", data / "default-model");
    fs::create_directory_symlink(fs::path(BERTSCOPE_TEST_RESOURCES) / "vocab", data / "vocab");

    Run r = run(cli, {"info", "default", "--backend", "cpu"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(default_folder(r), (data / "default-model").string());
    r = run(cli, {"fill-mask", "default", "--backend", "cpu", "--text", "The cat sat on the [MASK]."});
    QVERIFY2(r.exit_code == 0 && r.out.contains("\"token_str\""), r.err.constData());
    // random-model's default vocabulary comes from there too.
    r = run(cli, {"random-model", (prefix / "random").string().c_str(), "--layers", "1", "--hidden", "8", "--heads", "2",
                  "--intermediate", "8"});
    QVERIFY2(r.exit_code == 0 && fs::exists(prefix / "random" / "vocab.txt"), r.err.constData());

    // BERTSCOPE_DATA_DIR, when set, wins over the installed data.
    const fs::path mine = make_dirs(fs::path(tmp.path().toStdString()) / "mine");
    fs::create_directory_symlink(fs::path(BERTSCOPE_TEST_RESOURCES) / "default-model", mine / "default-model");
    r = run(cli, {"info", "default", "--backend", "cpu"}, QString::fromStdString(mine.string()));
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(default_folder(r), (mine / "default-model").string());

    // No data beside it: an error that names the variable, not the checkout's resources/.
    fs::remove_all(prefix / "share");
    r = run(cli, {"info", "default", "--backend", "cpu"});
    QVERIFY2(r.exit_code == 1 && r.err.contains("BERTSCOPE_DATA_DIR"), r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestDataDir)
#include "test_data_dir.moc"
