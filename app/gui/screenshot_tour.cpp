#include "screenshot_tour.h"

#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <algorithm>
#include <cstdio>

#include "attention_head_view.h"
#include "attention_page.h"
#include "entities_page.h"
#include "fill_mask_page.h"
#include "fine_tune_page.h"
#include "main_window.h"
#include "neuron_view.h"
#include "saliency_panel.h"

namespace bertscope::gui {

namespace {
const QString kSentence = QStringLiteral("The cat sat on the mat because it was tired.");
const QString kMasked = QStringLiteral("The cat sat on the [MASK] because it was tired.");  // ranked for the masked word
const QString kPair = QStringLiteral("It slept all afternoon.");
}  // namespace

ScreenshotTour::ScreenshotTour(MainWindow* window, QString folder, QString csv)
    : QObject(window),
      window_(window),
      folder_(std::move(folder)),
      csv_(std::move(csv)),
      compareModel_(qEnvironmentVariable("BERTSCOPE_SCREENSHOT_COMPARE")) {
  QDir().mkpath(folder_);
  connect(window_->engine(), &EngineClient::loaded, this, [this] {
    if (tab_ < 0) next();
  });
  connect(window_->engine(), &EngineClient::failed, this, [](quint64, Job job, const QString& error) {
    if (job != Job::Load && job != Job::Compare) return;
    std::fprintf(stderr, "bertscope: screenshots: the %s did not load: %s\n", job == Job::Load ? "model" : "compare model",
                 qPrintable(error));
    QApplication::exit(1);
  });
}

void ScreenshotTour::next() {
  ++tab_;
  if (tab_ >= window_->tabs()->count()) {
    if (compareModel_.isEmpty() || compared_) {
      QApplication::quit();
      return;
    }
    compared_ = true;
    window_->engine()->compareWith(compareModel_);
    shots_ = compareShots();
    takeNextShot();
    return;
  }
  window_->tabs()->setCurrentIndex(tab_);
  suffix_.clear();
  shots_ = extraShots();
  if (window_->tabs()->currentWidget() == window_->attentionPage())  // a pair: the head view's sentence filters show
    window_->attentionPage()->setText(kSentence, kPair);
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

std::deque<ScreenshotTour::Shot> ScreenshotTour::extraShots() {
  QWidget* shown = window_->tabs()->currentWidget();
  if (shown == window_->fillMaskPage()) {
    undo_.push_back([this] { window_->fillMaskPage()->saliency()->setMethod(SaliencyPanel::Off); });
    // With its saliency strip: integrated gradients for the top word.
    return {{QStringLiteral("-saliency"), [this] { window_->fillMaskPage()->saliency()->setMethod(SaliencyPanel::IntegratedGradients); }}};
  }
  if (shown == window_->fineTunePage()) {
    const QSize normal = window_->size();
    undo_.push_back([this, normal] { window_->resize(normal); });
    // Once more in a 1024x700 window: what the Fine-tune view must fit without scroll bars.
    return {{QStringLiteral("-1024x700"), [this] { window_->resize(1024, 700); }}};
  }
  if (shown != window_->attentionPage()) return {};
  AttentionPage* page = window_->attentionPage();
  EngineClient* engine = window_->engine();
  undo_.push_back([page, engine] {
    engine->setHeadMask({});
    page->switchOffMode()->setChecked(false);
  });
  std::deque<Shot> shots;
  shots.push_back({QStringLiteral("-head-view"), [page] {
                     if (page->data().layers() > 2) page->select(2, 0);  // a layer with sharper patterns than the first
                     page->showHeadView();
                   }});
  shots.push_back({QStringLiteral("-heads-off"), [this, page, engine] {
                     // Three heads off, none of them the map shown (layer 2's head 0): the model view crosses them out.
                     const int layers = page->data().layers(), heads = page->data().heads();
                     if (layers == 0 || heads == 0) return;
                     HeadMask mask = HeadMask::all_on(layers, heads);
                     mask.at(0, 1 % heads) = 0;
                     mask.at(1 % layers, 2 % heads) = 0;
                     mask.at(layers - 1, heads - 1) = 0;
                     page->switchOffMode()->setChecked(true);
                     engine->setHeadMask(mask);
                     showAttentionMap();
                   }});
  shots.push_back({QStringLiteral("-head-ranking"), [page, engine] {
                     // Every head on again, ranked for the model's top word in place of "mat".
                     engine->setHeadMask({});
                     page->switchOffMode()->setChecked(false);
                     page->setText(kMasked, kPair);
                     page->rankHeads();  // shows its grid when done
                   }});
  shots.push_back({QStringLiteral("-neuron-view"), [this, page] {
                     // Where "it"'s attention in layer 2's head 0 comes from; its bars need the model view's room.
                     int it = 1;
                     for (int i = 0; i < page->data().size(); ++i)
                       if (page->data().token(i).text == "it") {
                         it = i;  // the special tokens are shown, so this is the encoding's index too
                         break;
                       }
                     page->setText(kSentence, kPair);
                     if (page->data().layers() > 2) page->select(2, 0);
                     page->neuronView()->setQuery(it);
                     page->showNeuronView();
                     if (QSplitter* splitter = attentionSplitter()) {
                       const QList<int> sizes = splitter->sizes();
                       undo_.push_back([splitter, sizes] { splitter->setSizes(sizes); });
                       splitter->setSizes({0, sizes.value(0) + sizes.value(1)});
                     }
                   }});
  return shots;
}

std::deque<ScreenshotTour::Shot> ScreenshotTour::compareShots() {
  AttentionPage* attention = window_->attentionPage();
  return {
      {QStringLiteral("-compare"), [this] { window_->tabs()->setCurrentWidget(window_->fillMaskPage()); }},
      {QStringLiteral("-compare"), [this, attention] {
         window_->tabs()->setCurrentWidget(attention);
         attention->setText(kSentence);  // one sentence: both maps fit side by side
         if (attention->data().layers() > 2) attention->select(2, 0);
         attention->differenceOption()->setChecked(true);  // model B's place shows A − B when the two line up
         showAttentionMap();
       }},
  };
}

QTabWidget* ScreenshotTour::attentionViews() const {
  for (QTabWidget* views : window_->attentionPage()->findChildren<QTabWidget*>())
    if (views->indexOf(window_->attentionPage()->headView()) >= 0) return views;
  return nullptr;
}

QSplitter* ScreenshotTour::attentionSplitter() const {
  QTabWidget* views = attentionViews();
  return views ? qobject_cast<QSplitter*>(views->parentWidget()) : nullptr;
}

void ScreenshotTour::showAttentionMap() {
  // The Map is the tab before the head view.
  if (QTabWidget* views = attentionViews()) views->setCurrentIndex(std::max(0, views->indexOf(window_->attentionPage()->headView()) - 1));
}

void ScreenshotTour::takeNextShot() {
  Shot shot = std::move(shots_.front());
  shots_.pop_front();
  suffix_ = shot.suffix;
  shot.setup();
  QTimer::singleShot(600, this, [this] { waitForIdle(3); });  // let debounced requests start
}

void ScreenshotTour::waitForIdle(int quietPolls) {
  if (window_->engine()->busy()) quietPolls = 3;
  if (quietPolls > 0) {
    QTimer::singleShot(100, this, [this, quietPolls] { waitForIdle(window_->engine()->busy() ? 3 : quietPolls - 1); });
    return;
  }
  save();
  if (!shots_.empty()) return takeNextShot();
  for (const auto& undo : undo_) undo();
  undo_.clear();
  next();
}

void ScreenshotTour::save() {
  if (window_->tabs()->currentWidget() == window_->entitiesPage()) window_->entitiesPage()->showEntity(0);  // hovered: its tokens outlined
  const int tab = window_->tabs()->currentIndex();
  const QString name = window_->tabs()->tabText(tab).toLower().replace(QLatin1Char(' '), QLatin1Char('-')) + suffix_;
  const QString path = QDir(folder_).filePath(QStringLiteral("%1-%2.png").arg(tab + 1, 2, 10, QLatin1Char('0')).arg(name));
  if (!window_->grab().save(path)) std::fprintf(stderr, "bertscope: could not write %s\n", qPrintable(path));
  else std::printf("%s\n", qPrintable(path));
}

}  // namespace bertscope::gui
