#pragma once
// AboutDialog: Help > About bertscope and Help > Open the model card. Three tabs: About (the version this build
// was made as, the data folder in use), the loaded model's card (README.md in its folder, Markdown rendered) and
// the licences of the bundled model and data (LICENSES.md in bertscope's data folder, core/data_dir.h).
#include <QDialog>

class QTabWidget;
class QTextBrowser;

namespace bertscope::gui {

class AboutDialog : public QDialog {
  Q_OBJECT
 public:
  enum class Page { About, ModelCard, Licences };
  // `modelFolder`: the loaded model's folder, empty when none is loaded.
  explicit AboutDialog(const QString& modelFolder, QWidget* parent = nullptr);
  void showPage(Page page);

  QTabWidget* tabs() const { return tabs_; }
  QTextBrowser* modelCard() const { return card_; }
  QTextBrowser* licences() const { return licences_; }

  static QString version();  // the project version CMake built this from ("0.1.0")

 private:
  QTabWidget* tabs_;
  QTextBrowser* card_;
  QTextBrowser* licences_;
};

// The Markdown of a model card as the About dialog shows it: Hugging Face's YAML front matter (between "---"
// lines) left out, its `license:` said in a first line; each image a link instead ("Figure: ALT"), to the file in
// `folder` when its path is relative, since the dialog cannot draw SVG or fetch web images and would show a broken
// icon. Empty input gives empty output.
QString model_card_markdown(const QString& readme, const QString& folder = {});

}  // namespace bertscope::gui
