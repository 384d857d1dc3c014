#pragma once
// ScreenshotTour: after the model loads, shows each tab in turn, waits until the engine is idle, and saves the
// window as DIR/NN-tab.png (the attention tab twice: its map, then its head view as NN-attention-head-view.png, both
// on a sentence pair; the fill-mask tab twice: then with its saliency strip, as NN-fill-mask-saliency.png); then
// quits. Used by scripts/screenshots.sh under Xvfb (and handy for bug reports).
#include <QObject>
#include <QSize>
#include <QString>

namespace bertscope::gui {

class MainWindow;

class ScreenshotTour : public QObject {
  Q_OBJECT
 public:
  // With `csv`, the fine-tune view loads it and trains (a few epochs) before its screenshot.
  ScreenshotTour(MainWindow* window, QString folder, QString csv = {});

 private:
  void next();
  void waitForIdle(int quietPolls);

  MainWindow* window_;
  QString folder_;
  QString csv_;
  int tab_ = -1;
  bool headView_ = false;  // the attention tab's second screenshot is being taken
  bool smallWindow_ = false;  // the fine-tune tab's second screenshot, at 1024x700, is being taken
  bool saliency_ = false;     // the fill-mask tab's second screenshot, with its saliency strip, is being taken
  QSize normalSize_;
};

}  // namespace bertscope::gui
