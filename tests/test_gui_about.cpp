// Help > About bertscope and Help > Open the model card (about_dialog.h), offscreen: the version this build was
// made as, the loaded model's card (README.md, its Hugging Face metadata left out), the licences of the bundled
// model and data (LICENSES.md in the data folder), and what the dialog says when there is no card or no model.
#include <QAction>
#include <QLabel>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "about_dialog.h"
#include "main_window.h"
#include "model_page.h"
#include "model/random_model.h"

using namespace bertscope;
using namespace bertscope::gui;
namespace fs = std::filesystem;

namespace {

bool load(MainWindow& window, const QString& model) {
  QSignalSpy loaded(window.engine(), &EngineClient::loaded);
  window.openModel(model);
  return loaded.wait(60000) || loaded.count() > 0;
}

// Triggers the Help menu's action and returns the About dialog it opened (the only one).
AboutDialog* trigger(MainWindow& window, const char* action) {
  auto* a = window.findChild<QAction*>(QString::fromLatin1(action));
  if (!a) return nullptr;
  a->trigger();
  const auto dialogs = window.findChildren<AboutDialog*>();
  return dialogs.size() == 1 && dialogs[0]->isVisible() ? dialogs[0] : nullptr;
}

// The first line of a Markdown file, without its "# ".
QString first_heading(const fs::path& readme) {
  std::ifstream in(readme);
  std::string line;
  std::getline(in, line);
  return QString::fromStdString(line).remove(QRegularExpression(QStringLiteral("^#+\\s*")));
}

}  // namespace

class TestGuiAbout : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    qunsetenv("BERTSCOPE_DATA_DIR");  // this build tree's data (build/share/bertscope)
    QStandardPaths::setTestModeEnabled(true);
  }

  void aboutShowsVersionCardAndLicences() {
    MainWindow window;
    window.show();
    QVERIFY(load(window, QStringLiteral("default")));
    const QString folder = QString::fromStdString(window.engine()->model()->info.folder.string());
    // Named as its card names it, not by its folder ("default-model"), in the title and the Model view.
    QCOMPARE(window.modelPage()->field("Name"), QStringLiteral("bertscope-default"));
    QVERIFY2(window.windowTitle().startsWith(QStringLiteral("bertscope-default ")), qPrintable(window.windowTitle()));

    AboutDialog* about = trigger(window, "about");
    QVERIFY(about);
    QCOMPARE(about->tabs()->currentIndex(), 0);
    const QString text = about->findChild<QLabel*>(QStringLiteral("aboutText"))->text();
    QVERIFY2(text.contains(QStringLiteral("bertscope " BERTSCOPE_VERSION)), qPrintable(text));
    QVERIFY2(text.contains(folder), qPrintable(text));
    QCOMPARE(AboutDialog::version(), QStringLiteral(BERTSCOPE_VERSION));

    // The default model's card, rendered: its first heading is there as text, its Markdown marks are not.
    const QString card = about->modelCard()->toPlainText();
    const QString heading = first_heading(fs::path(folder.toStdString()) / "README.md");
    QVERIFY(!heading.isEmpty());
    QVERIFY2(card.startsWith(heading), qPrintable(card.left(200)));
    QVERIFY2(card.contains(QStringLiteral("Figure: Learning curve")), qPrintable(card));  // the plot, as a link

    // The licences of the model's training texts and of the fallback vocabulary.
    const QString licences = about->licences()->toPlainText();
    QVERIFY2(licences.contains(QStringLiteral("Apache License 2.0")) && licences.contains(QStringLiteral("GFDL")) &&
                 licences.contains(QStringLiteral("dict-gcide")),
             qPrintable(licences.left(400)));

    // Help > Open the model card: the same dialog, one at a time, on the card.
    AboutDialog* cardDialog = trigger(window, "openModelCard");
    QVERIFY(cardDialog);
    QCOMPARE(cardDialog->tabs()->currentIndex(), 1);
    QCOMPARE(cardDialog->modelCard()->toPlainText(), card);
  }

  void modelWithoutCardOrNoModel() {
    MainWindow window;
    window.show();
    AboutDialog* about = trigger(window, "openModelCard");  // nothing loaded yet
    QVERIFY(about);
    QCOMPARE(about->modelCard()->toPlainText(), QStringLiteral("No model is loaded."));

    QTemporaryDir tmp;
    RandomModelSpec spec;
    spec.vocab_file = std::string(BERTSCOPE_TEST_RESOURCES) + "/vocab/bert-base-uncased-vocab.txt";
    spec.layers = 1;
    spec.hidden = 16;
    spec.heads = 2;
    spec.intermediate = 16;
    const fs::path folder = fs::path(tmp.path().toStdString()) / "no-card";
    write_random_model(folder, spec);
    QVERIFY(load(window, QString::fromStdString(folder.string())));
    about = trigger(window, "openModelCard");
    QVERIFY(about);
    QVERIFY2(about->modelCard()->toPlainText().contains(QStringLiteral("has no model card (README.md)")),
             qPrintable(about->modelCard()->toPlainText()));
    // Without a data folder (a copied binary), asking whether a model is the built-in one must not stop it loading.
    qputenv("BERTSCOPE_DATA_DIR", QByteArray("/no/such/data/folder"));
    MainWindow bare;
    const bool loaded = load(bare, QString::fromStdString(folder.string()));
    qunsetenv("BERTSCOPE_DATA_DIR");
    QVERIFY(loaded);
    QCOMPARE(bare.modelPage()->field("Name"), QStringLiteral("no-card"));
  }

  // A Hub model card opens with YAML metadata: left out, its licence said first.
  void hubCardMetadata() {
    const QString card = model_card_markdown(
        QStringLiteral("---\nlanguage: en\nlicense: apache-2.0\ntags:\n- fill-mask\n---\n\n# BERT base\n\nText.\n"));
    QVERIFY2(card.startsWith(QStringLiteral("**Licence (from the card's metadata):** apache-2.0")), qPrintable(card));
    QVERIFY(card.contains(QStringLiteral("# BERT base")) && !card.contains(QStringLiteral("tags:")));
    QCOMPARE(model_card_markdown(QStringLiteral("# Plain card\n")), QStringLiteral("# Plain card\n"));
    QCOMPARE(model_card_markdown({}), QString());
  }

  // Images become links (the dialog draws neither SVG nor web images, and showed broken icons): a relative one to the
  // file in the model's folder, a web one as it is (walkthrough finding).
  void cardImagesBecomeLinks() {
    const QString card = model_card_markdown(
        QStringLiteral("Before.\n\n![Learning curve: loss and\naccuracy](learning-curve.svg)\n\n![](https://example.org/a.png) after."),
        QStringLiteral("/models/m"));
    QVERIFY2(!card.contains(QStringLiteral("![")), qPrintable(card));
    QVERIFY2(card.contains(QStringLiteral("[Figure: Learning curve: loss and accuracy](file:///models/m/learning-curve.svg)")),
             qPrintable(card));
    QVERIFY2(card.contains(QStringLiteral("[Figure: https://example.org/a.png](https://example.org/a.png) after.")),
             qPrintable(card));
    QVERIFY(card.startsWith(QStringLiteral("Before.")));
  }
};

QTEST_MAIN(TestGuiAbout)
#include "test_gui_about.moc"
