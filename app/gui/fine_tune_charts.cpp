#include "fine_tune_charts.h"

#include <QChart>
#include <QChartView>
#include <QFontMetrics>
#include <QLineSeries>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

namespace bertscope::gui {

namespace {
double next_round_step(double step) {  // 1, 2, 5, 10, 20, 50, ... x 10^k
  const double decade = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  return step / decade < 1.5 ? 2 * decade : step / decade < 3.5 ? 5 * decade : 10 * decade;
}
}  // namespace

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
  for (int k = 0; max_x / step > most && k < 60; ++k) step = next_round_step(step);
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
    if (auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).value(0)))
      fit_y_ticks(chart, y->min(), y->max());  // a shorter chart (a banner above it) needs ticks further apart
  });
  chart->legend()->setAlignment(Qt::AlignBottom);
  chart->setMargins(QMargins(4, 4, 4, 4));
  auto* view = new QChartView(chart, parent);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(200, 190);  // below this the axes collapse to "…"; the page scrolls instead
  return view;
}

// Ticks at round values from 0 (1, 2 or 5 x 10^k apart, two to seven of them): five even ticks over 0 to 0.836
// read "0.00 0.21 0.42 0.63 0.84"; with these a loss reads "0.0 0.2 0.4 0.6 0.8". Never closer than a line of label
// text: closer, Qt Charts elides every label to "…" (a short chart, under a banner).
// As with x, the spacing is set before the range.
void fit_y_ticks(QChart* chart, double min_y, double max_y) {
  auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).value(0));
  if (!y || !(max_y > min_y)) return;
  const double span = max_y - std::max(0.0, min_y);
  const double height = chart->plotArea().height() > 0 ? chart->plotArea().height() : 120;
  const double pixels_per_unit = height / (max_y - min_y);
  const int line = QFontMetrics(y->labelsFont()).height() + 2;
  double step = std::pow(10.0, std::floor(std::log10(std::max(1e-9, span) / 4)));
  // Wider apart until each label has its line, but never fewer than two intervals (three labels) over the span.
  for (int k = 0; (span / step > 6 || step * pixels_per_unit < line) && span / next_round_step(step) >= 2 && k < 60; ++k)
    step = next_round_step(step);
  const QString format = step >= 1 ? QStringLiteral("%.0f") : step >= 0.1 ? QStringLiteral("%.1f") : QStringLiteral("%.2f");
  if (y->tickType() != QValueAxis::TicksDynamic || y->tickInterval() != step) {  // else settled: no relayout loop
    y->setTickType(QValueAxis::TicksDynamic);
    y->setTickAnchor(0);
    y->setTickInterval(step);
  }
  if (y->labelFormat() != format) y->setLabelFormat(format);
  if (y->min() != min_y || y->max() != max_y) y->setRange(min_y, max_y);
}

void fit_axes(QChartView* view, double max_x, double min_y, double max_y) {
  fit_x_ticks(view->chart(), max_x);
  fit_y_ticks(view->chart(), min_y, max_y);
}

// Accuracy and F1 are often equal: markers of two sizes and a dashed line keep both visible on top of each other;
// small ones (a few pixels), which do not hide the line or each other's neighbours.
void style_series(QLineSeries* series, Qt::PenStyle style, qreal marker) {
  QPen pen = series->pen();
  pen.setWidthF(2);
  pen.setStyle(style);
  series->setPen(pen);
  series->setPointsVisible(true);
  series->setMarkerSize(marker);
}

}  // namespace bertscope::gui
