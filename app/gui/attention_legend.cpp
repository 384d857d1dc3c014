#include "attention_legend.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

namespace bertscope::gui {

namespace {
constexpr int kBarWidth = 220;
constexpr int kBarHeight = 10;
const float kTicks[] = {0.0f, 0.1f, 0.25f, 0.5f, 1.0f};  // even steps on the square-root scale are uneven in weight

// Where weight `w` sits along a bar from x0 of `width` pixels: the square-root scale the colours use.
double bar_x(double x0, double width, float w) { return x0 + width * std::sqrt(std::clamp(w, 0.0f, 1.0f)); }
}  // namespace

QColor attention_color(float weight) {
  const float t = std::sqrt(std::clamp(weight, 0.0f, 1.0f));
  return QColor::fromRgbF(1.0f - 0.85f * t, 1.0f - 0.65f * t, 1.0f - 0.25f * t);
}

void paint_map_legend(QPainter& painter, const QRect& rect, float max_weight, const QColor& text) {
  painter.save();
  QFont font = painter.font();
  font.setPixelSize(11);
  painter.setFont(font);
  const QFontMetrics metrics(font);
  const QString title = QObject::tr("weight");
  const int x0 = rect.left() + metrics.horizontalAdvance(title) + 8;
  const int width = std::max(60, std::min(kBarWidth, rect.right() - x0 - 70));
  const QRect bar(x0, rect.top() + 2, width, kBarHeight);
  for (int x = 0; x < width; ++x) {  // one column per pixel: the bar is the colour function itself
    const double t = double(x) / std::max(1, width - 1);
    painter.fillRect(QRect(bar.left() + x, bar.top(), 1, bar.height()), attention_color(float(t * t)));
  }
  painter.setPen(QColor(150, 150, 150));
  painter.drawRect(bar.adjusted(0, 0, -1, -1));
  painter.setPen(text);
  painter.drawText(QRect(rect.left(), bar.top() - 3, x0 - rect.left() - 6, kBarHeight + 6), Qt::AlignRight | Qt::AlignVCenter, title);
  for (float tick : kTicks) {
    const int x = int(bar_x(bar.left(), width - 1, tick));
    painter.drawLine(x, bar.bottom() + 1, x, bar.bottom() + 3);
    const QString label = tick == 0.0f ? QObject::tr("0 none") : tick == 1.0f ? QObject::tr("1 all") : QString::number(tick);
    const int w = metrics.horizontalAdvance(label);
    const int left = tick == 0.0f ? x : tick == 1.0f ? x - w : x - w / 2;
    painter.drawText(QRect(left, bar.bottom() + 4, w + 1, metrics.height()), Qt::AlignLeft | Qt::AlignTop, label);
  }
  if (max_weight >= 0.0f) {  // a mark under the bar at this map's largest weight, and its value at the right
    const double x = bar_x(bar.left(), width - 1, max_weight);
    const QPointF mark[3] = {{x, double(bar.top() - 1)}, {x - 4, double(bar.top() - 6)}, {x + 4, double(bar.top() - 6)}};
    painter.setBrush(QColor(230, 120, 20));
    painter.setPen(Qt::NoPen);
    painter.drawPolygon(mark, 3);
    painter.setPen(text);
    painter.drawText(QRect(bar.right() + 8, bar.top() - 3, rect.right() - bar.right() - 8, kBarHeight + 6), Qt::AlignLeft | Qt::AlignVCenter,
                     QObject::tr("max %1").arg(max_weight, 0, 'f', 2));
  }
  painter.restore();
}

QColor difference_color(float difference) {
  const float t = std::sqrt(std::min(std::abs(difference), 1.0f));
  // Red for A's larger weight, blue for B's: the same diverging pair as the saliency strip and the head ranking.
  const QColor full = difference >= 0 ? QColor(200, 30, 40) : QColor(30, 90, 200);
  return QColor::fromRgbF(1.0f - t * (1.0f - float(full.redF())), 1.0f - t * (1.0f - float(full.greenF())),
                          1.0f - t * (1.0f - float(full.blueF())));
}

DifferenceLegendLayout difference_legend_layout(const QRect& rect, const QFontMetrics& metrics) {
  DifferenceLegendLayout out;
  out.title = QObject::tr("A − B");
  const int x0 = rect.left() + metrics.horizontalAdvance(out.title) + 8;
  // The value right of the bar gets the room its widest text needs, so it is never cut.
  const int valueWidth = metrics.horizontalAdvance(QObject::tr("max |A − B| %1").arg(1.0, 0, 'f', 2)) + 8;
  const int width = std::max(80, std::min(kBarWidth, rect.right() - x0 - valueWidth));
  out.bar = QRect(x0, rect.top() + 2, width, kBarHeight);
  out.value = QRect(out.bar.right() + 8, out.bar.top() - 3, std::max(valueWidth - 8, rect.right() - out.bar.right() - 8), kBarHeight + 6);
  // Labels under −1, 0 and +1: "−1 B more" and "A more +1" where they fit beside the "0", else just "−1" and "+1"
  // (the tooltip says which side is which model).
  const int centre = int(difference_bar_x(out.bar, 0.0f)), left = out.bar.left(), right = int(difference_bar_x(out.bar, 1.0f));
  const QString zero = QStringLiteral("0");
  const int zeroWidth = metrics.horizontalAdvance(zero);
  const QRect zeroRect(centre - zeroWidth / 2, out.bar.bottom() + 4, zeroWidth + 1, metrics.height());
  for (const bool words : {true, false}) {
    const QString low = words ? QObject::tr("−1 B more") : QStringLiteral("−1");
    const QString high = words ? QObject::tr("A more +1") : QStringLiteral("+1");
    const QRect lowRect(left, zeroRect.top(), metrics.horizontalAdvance(low) + 1, metrics.height());
    const int highWidth = metrics.horizontalAdvance(high) + 1;
    const QRect highRect(right - highWidth + 1, zeroRect.top(), highWidth, metrics.height());
    constexpr int kGap = 4;
    if (!words || (lowRect.right() + kGap < zeroRect.left() && zeroRect.right() + kGap < highRect.left())) {
      out.labels = {low, zero, high};
      out.labelRects = {lowRect, zeroRect, highRect};
      break;
    }
  }
  return out;
}

double difference_bar_x(const QRect& bar, float d) {
  const double half = (bar.width() - 1) / 2.0;
  return bar.left() + half + (d >= 0 ? 1 : -1) * half * std::sqrt(std::min(std::abs(d), 1.0f));
}

void paint_difference_legend(QPainter& painter, const QRect& rect, float max_difference, const QColor& text) {
  painter.save();
  QFont font = painter.font();
  font.setPixelSize(11);
  painter.setFont(font);
  const DifferenceLegendLayout layout = difference_legend_layout(rect, QFontMetrics(font));
  const QRect& bar = layout.bar;
  const int width = bar.width();
  for (int x = 0; x < width; ++x) {
    const double u = 2.0 * x / std::max(1, width - 1) - 1.0;  // -1 .. 1 along the bar
    painter.fillRect(QRect(bar.left() + x, bar.top(), 1, bar.height()), difference_color(float(u * std::abs(u))));
  }
  painter.setPen(QColor(150, 150, 150));
  painter.drawRect(bar.adjusted(0, 0, -1, -1));
  painter.setPen(text);
  painter.drawText(QRect(rect.left(), bar.top() - 3, bar.left() - rect.left() - 6, kBarHeight + 6), Qt::AlignRight | Qt::AlignVCenter, layout.title);
  for (float tick : {-1.0f, -0.25f, 0.0f, 0.25f, 1.0f}) {  // ±0.25 marked, not labelled: the end labels need the room
    const int x = int(difference_bar_x(bar, tick));
    painter.drawLine(x, bar.bottom() + 1, x, bar.bottom() + 3);
  }
  for (int i = 0; i < layout.labels.size(); ++i)
    painter.drawText(layout.labelRects[i], Qt::AlignLeft | Qt::AlignTop, layout.labels[i]);
  if (max_difference >= 0.0f) {  // marks at ± the largest |difference|, and its value at the right
    painter.setBrush(QColor(230, 120, 20));
    painter.setPen(Qt::NoPen);
    for (float d : {-max_difference, max_difference}) {
      const double x = difference_bar_x(bar, d);
      const QPointF mark[3] = {{x, double(bar.top() - 1)}, {x - 4, double(bar.top() - 6)}, {x + 4, double(bar.top() - 6)}};
      painter.drawPolygon(mark, 3);
    }
    painter.setPen(text);
    painter.drawText(layout.value, Qt::AlignLeft | Qt::AlignVCenter, QObject::tr("max |A − B| %1").arg(max_difference, 0, 'f', 2));
  }
  painter.restore();
}

AttentionLegend::AttentionLegend(Kind kind, QWidget* parent) : QWidget(parent), kind_(kind) {
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
  setToolTip(kind == Kind::Map ? tr("Attention weight: how much of the query token's attention (each row sums to 1) goes to "
                                    "the key token. The mark is the largest weight in the map shown.")
             : kind == Kind::Difference
                 ? tr("Model A's weight minus model B's for the same query and key token: red where A attends more, blue "
                      "where B does, white where they agree. The marks are the largest difference in the map shown.")
                 : tr("A line's opacity is its weight divided by the number of heads shown, so that heads "
                      "drawn over each other never add up to more than full colour (as bertviz draws it)."));
}

void AttentionLegend::setMaximum(float max_weight) {
  max_ = max_weight;
  update();
}

void AttentionLegend::setHeadsShown(int heads) {
  heads_ = std::max(1, heads);
  update();
}

QSize AttentionLegend::sizeHint() const {
  return {kBarWidth + 160, kBarHeight + 20};
}

QSize AttentionLegend::minimumSizeHint() const {
  QFont font = this->font();
  font.setPixelSize(11);  // as paintEvent draws
  const QFontMetrics metrics(font);
  // The title, the narrowest bar the painters allow, and the text right of the bar ("max 0.47"; "= weight ÷ N heads").
  const int width = kind_ == Kind::Map          ? metrics.horizontalAdvance(tr("weight")) + 8 + 60 + 70
                    : kind_ == Kind::Difference ? metrics.horizontalAdvance(tr("A − B")) + 8 + 80 + 8 +
                                                      metrics.horizontalAdvance(tr("max |A − B| %1").arg(1.0, 0, 'f', 2)) + 8
                                                : metrics.horizontalAdvance(tr("line opacity")) + 8 + 40 + 150;
  return {width, kBarHeight + 20};
}

void AttentionLegend::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  const QColor text = palette().color(QPalette::WindowText);
  if (kind_ == Kind::Map) {
    paint_map_legend(painter, rect().adjusted(0, 4, 0, 0), max_, text);
    return;
  }
  if (kind_ == Kind::Difference) {
    paint_difference_legend(painter, rect().adjusted(0, 4, 0, 0), max_, text);
    return;
  }
  // Lines: weight 0 to 1 along the bar, drawn at the opacity a line of that weight gets now.
  QFont font = painter.font();
  font.setPixelSize(11);
  painter.setFont(font);
  const QFontMetrics metrics(font);
  const QString title = tr("line opacity");
  const int x0 = metrics.horizontalAdvance(title) + 8, width = std::min(kBarWidth / 2, std::max(40, this->width() - x0 - 150));
  const QRect bar(x0, 4, width, kBarHeight);
  painter.fillRect(bar, Qt::white);
  for (int x = 0; x < width; ++x) {
    const double w = double(x) / std::max(1, width - 1);
    painter.fillRect(QRect(bar.left() + x, bar.top(), 1, bar.height()), QColor(30, 30, 30, int(std::lround(255 * w / heads_))));
  }
  painter.setPen(QColor(150, 150, 150));
  painter.drawRect(bar.adjusted(0, 0, -1, -1));
  painter.setPen(text);
  painter.drawText(QRect(0, bar.top() - 3, x0 - 6, kBarHeight + 6), Qt::AlignRight | Qt::AlignVCenter, title);
  painter.drawText(QRect(bar.left(), bar.bottom() + 2, 40, metrics.height()), Qt::AlignLeft | Qt::AlignTop, tr("0"));
  painter.drawText(QRect(bar.right() - 40, bar.bottom() + 2, 41, metrics.height()), Qt::AlignRight | Qt::AlignTop, tr("1"));
  painter.drawText(QRect(bar.right() + 8, bar.top() - 3, this->width() - bar.right() - 8, kBarHeight + 6), Qt::AlignLeft | Qt::AlignVCenter,
                   heads_ == 1 ? tr("= weight") : tr("= weight ÷ %1 heads shown").arg(heads_));
}

}  // namespace bertscope::gui
