#include "busy_overlay.h"

#include <QGridLayout>
#include <QPainter>
#include <QTimer>

namespace bertscope::gui {

BusyOverlay::BusyOverlay(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("busyOverlay"));
  setAttribute(Qt::WA_TransparentForMouseEvents);
  setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);  // never makes the results' area larger
  setToolTip(tr("Computing a new result…"));
  spin_ = new QTimer(this);
  spin_->setInterval(40);
  connect(spin_, &QTimer::timeout, this, [this] {
    angle_ = (angle_ + 24) % 360;
    update();
  });
  hide();
}

void BusyOverlay::setBusy(bool busy) {
  if (busy == busy_) return;
  busy_ = busy;
  if (busy) {
    angle_ = 0;
    raise();
    show();
    spin_->start();
  } else {
    spin_->stop();
    hide();
  }
}

QWidget* BusyOverlay::wrap(QWidget* results, BusyOverlay** overlay) {
  auto* area = new QWidget(results->parentWidget());
  auto* grid = new QGridLayout(area);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->addWidget(results, 0, 0);
  *overlay = new BusyOverlay(area);
  grid->addWidget(*overlay, 0, 0);  // the same cell: on top of the results
  return area;
}

void BusyOverlay::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.fillRect(rect(), QColor(255, 255, 255, 150));  // the old result, greyed
  const int size = 36, pen = 4;
  const QRectF ring(width() / 2.0 - size / 2.0, height() / 2.0 - size / 2.0, size, size);
  painter.setPen(QPen(QColor(0, 0, 0, 40), pen));
  painter.drawEllipse(ring);
  painter.setPen(QPen(QColor(40, 110, 200), pen, Qt::SolidLine, Qt::RoundCap));
  painter.drawArc(ring, -angle_ * 16, 100 * 16);  // Qt angles: 1/16 degree, counter-clockwise
}

}  // namespace bertscope::gui
