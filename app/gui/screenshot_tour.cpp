#include "screenshot_tour.h"

#include <QApplication>
#include <QDir>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <cstdio>

#include "attention_page.h"
#include "entities_page.h"
#include "fill_mask_page.h"
#include "fine_tune_page.h"
#include "main_window.h"
#include "saliency_panel.h"

namespace bertscope::gui {

ScreenshotTour::ScreenshotTour(MainWindow* window, QString folder, QString csv)
    : QObject(window), window_(window), folder_(std::move(folder)), csv_(std::move(csv)) {
  QDir().mkpath(folder_);
  connect(window_->engine(), &EngineClient::loaded, this, [this] {
    if (tab_ < 0) next();
  });
  connect(window_->engine(), &EngineClient::failed, this, [](quint64, Job job, const QString& error) {
    if (job != Job::Load) return;
    std::fprintf(stderr, "bertscope: screenshots: the model did not load: %s\n", qPrintable(error));
    QApplication::exit(1);
  });
}

void ScreenshotTour::next() {
  ++tab_;
  if (tab_ >= window_->tabs()->count()) {
    QApplication::quit();
    return;
  }
  window_->tabs()->setCurrentIndex(tab_);
  if (window_->tabs()->currentWidget() == window_->attentionPage())  // a pair: the head view's sentence filters show
    window_->attentionPage()->setText(QStringLiteral("The cat sat on the mat because it was tired."),
                                      QStringLiteral("It slept all afternoon."));
  if (window_->tabs()->currentWidget() == window_->fineTunePage() && !csv_.isEmpty()) {
    FineTunePage* page = window_->fineTunePage();
    if (page->loadCsv(csv_)) {
      // The shared sentiment sentences are labelled 0 and 1: named as their readme says, which id2label then keeps.
      QTableWidget* names = page->labelNames();
      if (names->rowCount() == 2 && names->item(0, 0)->text() == QLatin1String("0") && names->item(1, 0)->text() == QLatin1String("1")) {
        page->setLabelName(0, tr("negative"));
        page->setLabelName(1, tr("positive"));
      }
      connect(page->job(), &TrainingJob::finished, this, [this, page] {
        page->trySentence(QStringLiteral("The staff were friendly and the food was great."));
        QTimer::singleShot(1500, this, [this] { waitForIdle(3); });
      });
      page->start();
      return;
    }
  }
  QTimer::singleShot(600, this, [this] { waitForIdle(3); });  // let debounced requests start
}

void ScreenshotTour::waitForIdle(int quietPolls) {
  if (window_->engine()->busy()) quietPolls = 3;
  if (quietPolls > 0) {
    QTimer::singleShot(100, this, [this, quietPolls] { waitForIdle(window_->engine()->busy() ? 3 : quietPolls - 1); });
    return;
  }
  if (window_->tabs()->currentWidget() == window_->entitiesPage()) window_->entitiesPage()->showEntity(0);  // hovered: its tokens outlined
  QString name = window_->tabs()->tabText(tab_).toLower().replace(QLatin1Char(' '), QLatin1Char('-'));
  if (headView_) name += QStringLiteral("-head-view");
  if (smallWindow_) name += QStringLiteral("-1024x700");
  if (saliency_) name += QStringLiteral("-saliency");
  const QString path = QDir(folder_).filePath(QStringLiteral("%1-%2.png").arg(tab_ + 1, 2, 10, QLatin1Char('0')).arg(name));
  if (!window_->grab().save(path)) std::fprintf(stderr, "bertscope: could not write %s\n", qPrintable(path));
  else std::printf("%s\n", qPrintable(path));
  if (window_->tabs()->currentWidget() == window_->attentionPage() && !headView_) {
    headView_ = true;
    AttentionPage* page = window_->attentionPage();
    if (page->data().layers() > 2) page->select(2, 0);  // a layer with sharper patterns than the first
    page->showHeadView();
    QTimer::singleShot(300, this, [this] { waitForIdle(3); });
    return;
  }
  headView_ = false;
  if (window_->tabs()->currentWidget() == window_->fineTunePage() && !smallWindow_) {
    // The Fine-tune view once more in a 1024x700 window: what it must fit without scroll bars.
    smallWindow_ = true;
    normalSize_ = window_->size();
    window_->resize(1024, 700);
    QTimer::singleShot(300, this, [this] { waitForIdle(3); });
    return;
  }
  if (smallWindow_) window_->resize(normalSize_);
  smallWindow_ = false;
  if (window_->tabs()->currentWidget() == window_->fillMaskPage() && !saliency_) {
    // The Fill-mask view once more with its saliency strip: integrated gradients for the top word.
    saliency_ = true;
    window_->fillMaskPage()->saliency()->setMethod(SaliencyPanel::IntegratedGradients);
    QTimer::singleShot(300, this, [this] { waitForIdle(3); });
    return;
  }
  if (saliency_) window_->fillMaskPage()->saliency()->setMethod(SaliencyPanel::Off);
  saliency_ = false;
  next();
}

}  // namespace bertscope::gui
