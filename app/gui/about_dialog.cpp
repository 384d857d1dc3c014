#include "about_dialog.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QLabel>
#include <QRegularExpression>
#include <QTabWidget>
#include <QTextBrowser>
#include <QUrl>
#include <QVBoxLayout>

#include "core/data_dir.h"
#include "core/read_file.h"

namespace bertscope::gui {

namespace {

constexpr std::uintmax_t kMaxMarkdownBytes = 4 << 20;  // a model card or licence file; larger is not a card

// A browser for Markdown that opens web links in the user's browser.
QTextBrowser* make_browser(QWidget* parent) {
  auto* browser = new QTextBrowser(parent);
  browser->setOpenExternalLinks(true);
  return browser;
}

// The file's text, or a sentence saying why there is none.
QString read_markdown(const std::filesystem::path& file, const QString& missing) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return missing;
  try {
    return QString::fromStdString(read_file_bounded(file, kMaxMarkdownBytes, "a Markdown file"));
  } catch (const std::exception& e) {
    return QString::fromStdString(e.what());
  }
}

}  // namespace

QString model_card_markdown(const QString& readme, const QString& folder) {
  QString text = readme;
  static const QRegularExpression image(QStringLiteral("!\\[([^\\]]*)\\]\\(([^)\\s]+)\\)"));
  QString linked;
  qsizetype done = 0;
  for (auto it = image.globalMatch(text); it.hasNext();) {
    const QRegularExpressionMatch m = it.next();
    const QString target = m.captured(2);
    const bool relative = QUrl(target).isRelative() && !folder.isEmpty();
    const QString url = relative ? QUrl::fromLocalFile(QDir(folder).absoluteFilePath(target)).toString() : target;
    const QString alt = m.captured(1).simplified();
    linked += text.mid(done, m.capturedStart() - done) +
              QObject::tr("[Figure: %1](%2)").arg(alt.isEmpty() ? target : alt, url);
    done = m.capturedEnd();
  }
  text = linked + text.mid(done);
  QString licence;
  // Hub model cards open with metadata: "---\nlicense: apache-2.0\n...\n---".
  static const QRegularExpression front(QStringLiteral("\\A---\\r?\\n(.*?)\\r?\\n---[ \\t]*(\\r?\\n|\\z)"),
                                        QRegularExpression::DotMatchesEverythingOption);
  if (const auto match = front.match(text); match.hasMatch()) {
    static const QRegularExpression license(QStringLiteral("^license:\\s*(\\S.*)$"),
                                            QRegularExpression::MultilineOption);
    if (const auto l = license.match(match.captured(1)); l.hasMatch()) licence = l.captured(1).trimmed();
    text = text.mid(match.capturedEnd());
  }
  return licence.isEmpty() ? text : QObject::tr("**Licence (from the card's metadata):** %1\n\n").arg(licence) + text;
}

QString AboutDialog::version() { return QStringLiteral(BERTSCOPE_VERSION); }

AboutDialog::AboutDialog(const QString& modelFolder, QWidget* parent) : QDialog(parent) {
  setObjectName(QStringLiteral("aboutDialog"));
  setWindowTitle(tr("About bertscope"));
  resize(640, 560);
  tabs_ = new QTabWidget(this);

  std::filesystem::path dataFolder;
  QString data;  // the folder, or why there is none
  try {
    dataFolder = data_dir();
    data = QString::fromStdString(dataFolder.string());
  } catch (const std::exception& e) {
    data = QString::fromStdString(e.what());
  }
  auto* about = new QLabel(tr("<h2>bertscope %1</h2>"
                              "<p>Explore and adapt BERT models (BERT, DistilBERT, RoBERTa in Hugging Face's folder "
                              "layout): tokens, masked words, attention, answers, entities, fine-tuning; on its own "
                              "engine, on the CPU or a Vulkan GPU.</p>"
                              "<p>Built with Qt %2, running on Qt %3.</p>"
                              "<p>Model: %4<br>Data folder (default model, vocabulary, licences): %5</p>")
                               .arg(version(), QStringLiteral(QT_VERSION_STR), QString::fromLatin1(qVersion()),
                                    modelFolder.isEmpty() ? tr("none loaded") : modelFolder.toHtmlEscaped(),
                                    data.toHtmlEscaped()),
                           this);
  about->setObjectName(QStringLiteral("aboutText"));
  about->setWordWrap(true);
  about->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  about->setTextInteractionFlags(Qt::TextSelectableByMouse);
  about->setMargin(12);
  tabs_->addTab(about, tr("About"));

  card_ = make_browser(this);
  card_->setObjectName(QStringLiteral("modelCard"));
  const QString card = modelFolder.isEmpty()
                           ? tr("No model is loaded.")
                           : read_markdown(std::filesystem::path(modelFolder.toStdString()) / "README.md",
                                           tr("This model's folder (%1) has no model card (README.md).").arg(modelFolder));
  card_->setMarkdown(model_card_markdown(card, modelFolder));
  tabs_->addTab(card_, tr("Model card"));

  licences_ = make_browser(this);
  licences_->setObjectName(QStringLiteral("licences"));
  licences_->setMarkdown(dataFolder.empty() ? data
                                            : read_markdown(dataFolder / "LICENSES.md",
                                                            tr("The licences file (LICENSES.md) is not in bertscope's "
                                                               "data folder (%1).").arg(data)));
  tabs_->addTab(licences_, tr("Licences"));

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(tabs_);
  layout->addWidget(buttons);
}

void AboutDialog::showPage(Page page) { tabs_->setCurrentIndex(static_cast<int>(page)); }

}  // namespace bertscope::gui
