#pragma once
// ScreenshotTour: after the model loads, shows each tab in turn, waits until the engine is idle, and saves the
// window as DIR/NN-tab.png; some tabs get more screenshots, as DIR/NN-tab-what.png:
//  - fill mask: -saliency (its saliency strip);
//  - attention, on a sentence pair: -head-view, -heads-off (three heads switched off), -head-ranking (the heads
//    ranked for a masked word) and -neuron-view (one head, query token "it");
//  - fine-tune: -1024x700 (the smallest window it must fit).
// With a compare model, the tour then opens it as model B and saves the fill-mask and attention tabs once more, as
// -compare (the attention map beside its difference A − B). Then it quits. Used by scripts/screenshots.sh under
// Xvfb (and handy for bug reports).
#include <QObject>
#include <QSize>
#include <QString>
#include <deque>
#include <functional>
#include <vector>

class QSplitter;
class QTabWidget;

namespace bertscope::gui {

class MainWindow;

class ScreenshotTour : public QObject {
  Q_OBJECT
 public:
  // With `csv`, the fine-tune view loads it and trains (a few epochs) before its screenshot. The compare model is
  // a folder named by the environment variable BERTSCOPE_SCREENSHOT_COMPARE (none: no compare screenshots), as the
  // command line belongs to main.cpp.
  ScreenshotTour(MainWindow* window, QString folder, QString csv = {});

 private:
  // One more screenshot of the tab shown: `setup` changes the view, then the window is saved as NN-tab`suffix`.png.
  struct Shot {
    QString suffix;
    std::function<void()> setup;
  };
  void next();
  void waitForIdle(int quietPolls);
  void save();
  void takeNextShot();  // the first of shots_
  std::deque<Shot> extraShots();  // for the tab shown; they may add to undo_
  std::deque<Shot> compareShots();
  // The attention tab: the tabs beside its model view (Map, Head view, …), the splitter between the two, and
  // showing the Map.
  QTabWidget* attentionViews() const;
  QSplitter* attentionSplitter() const;
  void showAttentionMap();

  MainWindow* window_;
  QString folder_;
  QString csv_;
  QString compareModel_;  // model B's folder; empty: no compare screenshots
  bool compared_ = false;
  int tab_ = -1;
  QString suffix_;                         // of the screenshot being taken
  std::deque<Shot> shots_;                 // still to take of the tab shown
  std::vector<std::function<void()>> undo_;  // puts the tab back as it was, once its screenshots are taken
};

}  // namespace bertscope::gui
