#pragma once
// The fine-tune view's charts: the training loss over steps and the validation scores over epochs, with axes whose
// ticks stay readable however long the run.
#include <QString>
#include <initializer_list>

class QChart;
class QChartView;
class QLineSeries;
class QWidget;

namespace bertscope::gui {

// A chart of `series` against an x axis titled `x` (steps or epochs), legend below.
QChartView* chart_view(const QString& title, std::initializer_list<QLineSeries*> series, const QString& x, QWidget* parent);
// The x axis from 0 to max_x with whole-number ticks that fit the plot's width.
void fit_x_ticks(QChart* chart, double max_x);
// The y axis from min_y to max_y, ticks at round values from 0, two to seven, each label a line of text apart at
// least (at the plot's present height).
void fit_y_ticks(QChart* chart, double min_y, double max_y);
// Both axes: x as fit_x_ticks, y from min_y to max_y with ticks as fit_y_ticks.
void fit_axes(QChartView* view, double max_x, double min_y, double max_y);
// A thick line with markers (`marker` pixels) in `style`: two series with equal values stay visible.
void style_series(QLineSeries* series, Qt::PenStyle style, qreal marker);

}  // namespace bertscope::gui
