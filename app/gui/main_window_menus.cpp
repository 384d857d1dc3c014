// MainWindow's menu bar (File, View, Help with About and the model card; the standard shortcuts), its help text,
// the notice over the tabs when the model's outputs are noise, and the question before closing mid fine-tune.
#include <QAbstractButton>
#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QMenuBar>
#include <QMessageBox>
#include <QTabWidget>
#include <QVBoxLayout>

#include "about_dialog.h"
#include "compare_menu.h"
#include "fine_tune_page.h"
#include "main_window.h"
#include "model_page.h"
#include "page_support.h"
#include "tokenize_page.h"

namespace bertscope::gui {

void MainWindow::buildMenuBar() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  // The toolbar's actions, so one shortcut (Ctrl+O) does one thing.
  if (auto* open = findChild<QAction*>(QStringLiteral("openModel"))) {
    open->setText(tr("&Open model folder…"));
    file->addAction(open);
  }
  file->addMenu(recentMenu_);
  if (auto* builtin = findChild<QAction*>(QStringLiteral("openDefaultModel"))) file->addAction(builtin);
  file->addSeparator();
  add_compare_actions(file, engine_, banner_, this);  // a second model, side by side (model_compare.h)
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);  // close(): asks first mid fine-tune
  quit->setObjectName(QStringLiteral("quit"));
  quit->setShortcut(QKeySequence::Quit);
  if (quit->shortcut().isEmpty()) quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));  // platforms without one
  quit->setShortcutContext(Qt::ApplicationShortcut);

  // View: one entry per tab (Ctrl+1 ... Ctrl+8), checked for the tab shown.
  QMenu* view = menuBar()->addMenu(tr("&View"));
  auto* views = new QActionGroup(this);
  for (int i = 0; i < tabs_->count(); ++i) {
    QAction* tab = view->addAction(tabs_->tabText(i));
    tab->setCheckable(true);
    tab->setChecked(i == tabs_->currentIndex());
    if (i < 9) tab->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    views->addAction(tab);
    connect(tab, &QAction::triggered, this, [this, i] { tabs_->setCurrentIndex(i); });
  }
  connect(tabs_, &QTabWidget::currentChanged, this, [views](int i) {
    if (i >= 0 && i < views->actions().size()) views->actions()[i]->setChecked(true);
  });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  QAction* contents = help->addAction(tr("bertscope &Help"), this, &MainWindow::showHelp);
  contents->setObjectName(QStringLiteral("help"));
  contents->setShortcut(QKeySequence::HelpContents);
  if (contents->shortcut().isEmpty()) contents->setShortcut(QKeySequence(Qt::Key_F1));
  // About and the model card: one dialog (about_dialog.h), made afresh for the model loaded now.
  const auto showAbout = [this](AboutDialog::Page page) {
    delete findChild<AboutDialog*>();
    const Ptr<LoadedModel>& model = engine_->model();
    auto* about = new AboutDialog(model ? QString::fromStdString(model->info.folder.string()) : QString(), this);
    about->setAttribute(Qt::WA_DeleteOnClose);
    about->showPage(page);
    about->show();
  };
  QAction* card = help->addAction(tr("Open the &model card"), this, [showAbout] { showAbout(AboutDialog::Page::ModelCard); });
  card->setObjectName(QStringLiteral("openModelCard"));
  QAction* about = help->addAction(tr("&About bertscope"), this, [showAbout] { showAbout(AboutDialog::Page::About); });
  about->setObjectName(QStringLiteral("about"));
  help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::showHelp() {
  if (auto* open = findChild<QMessageBox*>(QStringLiteral("helpDialog"))) return open->raise();
  auto* box = new QMessageBox(QMessageBox::Information, tr("bertscope Help"),
                              tr("bertscope shows what a BERT model does with text, one view per tab."),
                              QMessageBox::Close, this);
  box->setObjectName(QStringLiteral("helpDialog"));
  box->setTextFormat(Qt::PlainText);
  box->setInformativeText(tr(
      "Model: architecture, heads, sizes and where it runs.\n"
      "Tokens: how the text becomes word pieces; hover a token to find its characters.\n"
      "Fill mask: type [MASK] (<mask> for RoBERTa) where a word should be predicted; click a word to mask it, a "
      "mask to put the word back, a prediction to put it in.\n"
      "Attention: where each token looks, for every layer and head.\n"
      "Question answering: the answer span in a context (models with a QA head).\n"
      "Classify: label probabilities (classifier heads) and next-sentence prediction (NSP heads).\n"
      "Entities: named entities highlighted by type, with each token's label probabilities (token-classification "
      "heads).\n"
      "Fine-tune: train a classifier from a CSV of labelled sentences, try it and save it.\n"
      "Compare: File > Compare with another model folder… opens a second model (e.g. before fine-tuning); every view "
      "then shows its answers beside the first model's, with the differences.\n\n"
      "Open a Hugging Face folder with File > Open model folder… (Ctrl+O) or drop it on the window; Ctrl+1 … Ctrl+8 "
      "switch views; F1 shows this help; Ctrl+Q quits."));
  box->setModal(false);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->show();
}

void MainWindow::buildModelNotice() {
  modelNotice_ = new MessageLine(this);
  modelNotice_->setObjectName(QStringLiteral("modelNotice"));
  if (auto* layout = qobject_cast<QVBoxLayout*>(centralWidget()->layout()))
    layout->insertWidget(layout->indexOf(tabs_), modelNotice_);  // over the tabs, under the error banner
  connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::updateModelNotice);
  connect(engine_, &EngineClient::loaded, this, &MainWindow::updateModelNotice);
}

void MainWindow::updateModelNotice() {
  const Ptr<LoadedModel>& model = engine_->model();
  QWidget* tab = tabs_->currentWidget();
  // The Model tab has its own warning; tokens do not depend on the weights.
  const bool weights_matter = tab != modelPage_ && tab != tokenizePage_;
  if (!model || !model->info.untrained || !weights_matter) {
    modelNotice_->clearMessage();
    return;
  }
  modelNotice_->showNotice(tab == fineTunePage_
                               ? tr("This model is untrained (random weights): fine-tuning starts from nothing it "
                                    "knows about language, so expect far lower accuracy than from a trained model.")
                               : tr("This model is untrained (random weights): what this view shows is noise, not "
                                    "what a trained model would do."));
  // The notice uses MessageLine's notice style; keep the warning colours.
  modelNotice_->setStyleSheet(QStringLiteral("background: #fff3cd; color: #664d03; padding: 6px; border-radius: 4px;"));
}

QMessageBox* MainWindow::closeQuestion() const { return closeQuestion_.data(); }

bool MainWindow::confirmClose() {
  if (closeConfirmed_ || !fineTunePage_->job()->running()) return true;
  if (closeQuestion_ && closeQuestion_->isVisible()) return false;  // already asking
  // Training goes on while the question is up.
  closeQuestion_ = ask(this, QMessageBox::Question, tr("Fine-tuning is running"),
                       tr("Fine-tuning is still running. Stop it and close bertscope? Nothing of this run will be "
                          "kept."),
                       QMessageBox::Yes | QMessageBox::No, QMessageBox::No, QStringLiteral("closeQuestion"),
                       [this](QMessageBox::StandardButton answer) {
                         if (answer != QMessageBox::Yes) return;
                         fineTunePage_->cancel();
                         closeConfirmed_ = true;
                         QMetaObject::invokeMethod(this, &QWidget::close, Qt::QueuedConnection);  // after the question
                       });
  return false;
}

}  // namespace bertscope::gui
