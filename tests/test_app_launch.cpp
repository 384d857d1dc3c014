// The installed program as a user (or scripts/bench.sh) starts it: `bertscope --time-to-first-answer` opens the
// default model, paints the Fill mask view's first answer, prints how long that took and quits.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

class TestAppLaunch : public QObject {
  Q_OBJECT
 private slots:
  void firstAnswerIsTimed() {
    QTemporaryDir home;  // its own settings: nothing of the user's is read or written
    QProcess app;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    env.insert("HOME", home.path());
    env.insert("XDG_CONFIG_HOME", home.path() + "/config");
    env.insert("XDG_CACHE_HOME", home.path() + "/cache");
    app.setProcessEnvironment(env);
    app.start(BERTSCOPE_APP, {"--time-to-first-answer", "--backend", "cpu"});
    QVERIFY(app.waitForFinished(120000));
    QCOMPARE(app.exitCode(), 0);
    const QByteArray out = app.readAllStandardOutput().trimmed();
    const QJsonObject reply = QJsonDocument::fromJson(out.split('\n').last()).object();
    QVERIFY2(reply.contains("first_answer_ms"), out.constData());
    const double ms = reply["first_answer_ms"].toDouble();
    QVERIFY2(ms > 0 && ms < 120000, out.constData());  // from the process's start, so never 0
  }
};

QTEST_GUILESS_MAIN(TestAppLaunch)
#include "test_app_launch.moc"
