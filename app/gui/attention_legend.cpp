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

AttentionLegend::AttentionLegend(Kind kind, QWidget* parent) : QWidget(parent), kind_(kind) {
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
  setToolTip(kind == Kind::Map ? tr("Attention weight: how much of the query token's attention (each row sums to 1) goes to "
                                    "the key token. The mark is the largest weight in the map shown.")
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
  const int width = kind_ == Kind::Map ? metrics.horizontalAdvance(tr("weight")) + 8 + 60 + 70
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
