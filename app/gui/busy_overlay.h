#pragma once
// BusyOverlay: lies over a page's results while a newer result computes. The old result shows through a white
// wash (greyed) and an arc turns in the middle. Mouse events pass through, so the old result can still be scrolled.
#include <QWidget>

class QTimer;

namespace bertscope::gui {

class BusyOverlay : public QWidget {
  Q_OBJECT
 public:
  explicit BusyOverlay(QWidget* parent = nullptr);
  void setBusy(bool busy);  // shows (and raises) or hides it; the arc turns only while shown
  bool busy() const { return busy_; }

  // Puts `results` and an overlay over it into one widget (both in one grid cell), for the page's layout.
  static QWidget* wrap(QWidget* results, BusyOverlay** overlay);

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QTimer* spin_;
  int angle_ = 0;  // degrees, the arc's start
  bool busy_ = false;
};

}  // namespace bertscope::gui
