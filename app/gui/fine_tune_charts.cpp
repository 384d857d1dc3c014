#include "fine_tune_charts.h"

#include <QChart>
#include <QChartView>
#include <QFontMetrics>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace bertscope::gui {

// The x axis counts steps or epochs: ticks at whole numbers, 1, 2 or 5 x 10^k apart, as many as its labels fit
// side by side in the plot's width (more would be elided to "1…"; fractions would read "0 0 0 0 1"). The spacing
// is set before the range: a range of 10,000 steps at the old spacing of 1 would make 10,000 tick items.
void fit_x_ticks(QChart* chart, double max_x) {
  auto* x = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).value(0));
  if (!x) return;
  max_x = std::max(1.0, max_x);
  const QFontMetrics metrics(x->labelsFont());
  const int label = metrics.horizontalAdvance(QString::number(std::llround(max_x))) + 16;  // the widest, and a gap
  const double width = chart->plotArea().width() > 0 ? chart->plotArea().width() : 120;
  const double most = std::max(1.0, std::floor(width / label));  // intervals that fit
  double step = 1;
  for (int k = 0; max_x / step > most && k < 60; ++k) {  // 1, 2, 5, 10, 20, 50, ...
    const double decade = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    step = step / decade < 1.5 ? 2 * decade : step / decade < 3.5 ? 5 * decade : 10 * decade;
  }
  if (x->tickType() != QValueAxis::TicksDynamic || x->tickInterval() != step) {  // else settled: no relayout loop
    x->setTickType(QValueAxis::TicksDynamic);
    x->setTickAnchor(0);
    x->setTickInterval(step);
  }
  if (x->min() != 0 || x->max() != max_x) x->setRange(0, max_x);
}

QChartView* chart_view(const QString& title, std::initializer_list<QLineSeries*> series, const QString& x, QWidget* parent) {
  auto* chart = new QChart;
  chart->setTitle(title);
  for (QLineSeries* s : series) chart->addSeries(s);
  chart->createDefaultAxes();
  chart->axes(Qt::Horizontal).first()->setTitleText(x);
  for (QAbstractAxis* axis : chart->axes()) {
    auto* value = qobject_cast<QValueAxis*>(axis);
    if (!value) continue;
    value->setTickCount(5);
    value->setLabelFormat(axis->orientation() == Qt::Horizontal ? QStringLiteral("%d") : QStringLiteral("%.2f"));
  }
  fit_x_ticks(chart, 1);
  QObject::connect(chart, &QChart::plotAreaChanged, chart, [chart] {
    if (auto* x = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).value(0))) fit_x_ticks(chart, x->max());
  });
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(200, 190);  // below this the axes collapse to "…"; the page scrolls instead
  return view;
}

// The y axis from min_y to max_y with ticks at round values from 0 (1, 2 or 5 x 10^k apart, at most seven of them):
// five even ticks over 0 to 0.836 read "0.00 0.21 0.42 0.63 0.84"; with these a loss reads "0.0 0.2 0.4 0.6 0.8".
void fit_axes(QChartView* view, double max_x, double min_y, double max_y) {
  fit_x_ticks(view->chart(), max_x);
  auto* y = qobject_cast<QValueAxis*>(view->chart()->axes(Qt::Vertical).first());
  if (!y) return;
  double step = std::pow(10.0, std::floor(std::log10(std::max(1e-9, max_y - std::max(0.0, min_y)) / 4)));
  for (double factor : {2.0, 2.5, 2.0})  // 1, 2, 5, 10 x 10^k
    if ((max_y - std::max(0.0, min_y)) / step > 6) step *= factor;
  y->setTickType(QValueAxis::TicksDynamic);
  y->setTickAnchor(0);
  y->setTickInterval(step);
  y->setLabelFormat(step >= 1 ? QStringLiteral("%.0f") : step >= 0.1 ? QStringLiteral("%.1f") : QStringLiteral("%.2f"));
  y->setRange(min_y, max_y);
}

// Accuracy and F1 are often equal: markers of two sizes and a dashed line keep both visible on top of each other.
void style_series(QLineSeries* series, Qt::PenStyle style, qreal marker) {
  QPen pen = series->pen();
  pen.setWidthF(2);
  pen.setStyle(style);
  series->setPen(pen);
  series->setPointsVisible(true);
  series->setMarkerSize(marker);
}

}  // namespace bertscope::gui
