#include "attention_views.h"

#include <QMouseEvent>
#include <QPainter>
#include <QTextDocument>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "attention_legend.h"

namespace bertscope::gui {

namespace {
constexpr int kGridCell = 56;     // model view map size, pixels
constexpr int kGridGap = 6;
constexpr int kGridHeader = 18;   // head numbers above, layer numbers to the left
const QColor kHover(230, 120, 20);

}  // namespace

// ---- AttentionData ----

AttentionData::AttentionData(std::shared_ptr<const AttentionResult> result, bool hideSpecial) : result_(std::move(result)) {
  for (int i = 0; i < result_->tokens; ++i) {
    const Token& t = result_->encoding.tokens[size_t(i)];
    const bool cls_or_sep = t.sequence < 0 && t.special;  // the [CLS]/[SEP] (<s>/</s>) the tokenizer added
    if (!(hideSpecial && cls_or_sep)) visible_.push_back(i);
    if (t.sequence == 1 && second_ < 0) second_ = i;
  }
}

// Texts arrive readable (RoBERTa's " world"); the leading space would only misalign the labels.
QString AttentionData::label(int i) const { return QString::fromStdString(token(i).text).trimmed(); }

std::vector<float> AttentionData::map(int layer, int head) const {
  const int n = size(), t = result_->tokens;
  std::vector<float> out(size_t(n) * n, 0.0f);
  const int first = head < 0 ? 0 : head, last = head < 0 ? heads() - 1 : head;
  const float scale = 1.0f / float(last - first + 1);
  for (int h = first; h <= last; ++h) {
    const float* m = result_->map(layer, h);  // (T, T)
    for (int q = 0; q < n; ++q)
      for (int k = 0; k < n; ++k) out[size_t(q) * n + k] += scale * m[size_t(visible_[size_t(q)]) * t + visible_[size_t(k)]];
  }
  return out;
}

QImage AttentionData::image(int layer, int head) const {
  const int n = size();
  const std::vector<float> m = map(layer, head);
  QImage image(n, n, QImage::Format_RGB32);
  for (int q = 0; q < n; ++q) {
    auto* line = reinterpret_cast<QRgb*>(image.scanLine(q));
    for (int k = 0; k < n; ++k) line[k] = attention_color(m[size_t(q) * n + k]).rgb();
  }
  return image;
}

QString AttentionData::csv(int layer, int head) const {
  auto quote = [](QString s) { return QLatin1Char('"') + s.replace(QLatin1Char('"'), QStringLiteral("\"\"")) + QLatin1Char('"'); };
  const int n = size();
  const std::vector<float> m = map(layer, head);
  QString out = QStringLiteral("query\\key");
  for (int k = 0; k < n; ++k) out += QLatin1Char(',') + quote(label(k));
  out += QLatin1Char('\n');
  for (int q = 0; q < n; ++q) {
    out += quote(label(q));
    for (int k = 0; k < n; ++k) out += QLatin1Char(',') + QString::number(m[size_t(q) * n + k], 'g', 7);
    out += QLatin1Char('\n');
  }
  return out;
}

// ---- AttentionGrid ----

AttentionGrid::AttentionGrid(QWidget* parent) : QWidget(parent) {}

void AttentionGrid::setData(const AttentionData* data) {
  data_ = data;
  images_.clear();
  if (data_ && !data_->empty())
    for (int l = 0; l < data_->layers(); ++l)
      for (int h = 0; h < columns(); ++h) images_.push_back(data_->image(l, h == data_->heads() ? -1 : h));
  updateGeometry();
  update();
}

void AttentionGrid::setMapName(const QString& name) { mapName_ = name; }

int AttentionGrid::columns() const {
  if (!data_ || data_->empty()) return 0;
  return hasMean() ? data_->heads() + 1 : 1;  // a rollout or flow result has one "head" a layer: no mean to add
}

QString AttentionGrid::columnTitle(int column) const {
  if (!hasMean()) return mapName_;
  return data_ && column == data_->heads() ? tr("mean") : tr("head %1").arg(column);
}

void AttentionGrid::setSelected(int layer, int head) {
  layer_ = layer;
  head_ = head;
  update();
}

void AttentionGrid::setHoveredToken(int token) {
  hovered_ = token;
  update();
}

void AttentionGrid::setHeadMask(const HeadMask& mask) {
  mask_ = mask;
  update();
}

void AttentionGrid::setSwitchOffMode(bool on) {
  switchOff_ = on;
  setCursor(on ? Qt::PointingHandCursor : Qt::ArrowCursor);
}

void AttentionGrid::setTogglable(bool togglable) { togglable_ = togglable; }

QPoint AttentionGrid::cellCenter(int layer, int head) const {
  if (!hasMean()) return cellRect(layer, 0).center();  // the one map of the layer
  return cellRect(layer, head < 0 && data_ ? data_->heads() : head).center();
}

QRect AttentionGrid::cellRect(int layer, int column) const {
  const int extra = hasMean() && data_ && column == data_->heads() ? kGridGap * 2 : 0;  // set the mean column apart
  return {kGridHeader + 8 + column * (kGridCell + kGridGap) + extra, kGridHeader + layer * (kGridCell + kGridGap),
          kGridCell, kGridCell};
}

QSize AttentionGrid::sizeHint() const {
  if (!data_ || data_->empty()) return {200, 100};
  const QRect last = cellRect(data_->layers() - 1, columns() - 1);
  return {last.right() + 4, last.bottom() + 4};
}

void AttentionGrid::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (!data_ || data_->empty()) return;
  const int heads = data_->heads(), n = data_->size(), columns = this->columns();
  painter.setPen(palette().color(QPalette::WindowText));
  for (int h = 0; h < columns; ++h) {
    const QRect r = cellRect(0, h);
    painter.drawText(QRect(r.left(), 0, r.width(), kGridHeader), Qt::AlignCenter, columnTitle(h));
  }
  for (int l = 0; l < data_->layers(); ++l) {
    const QRect r = cellRect(l, 0);
    painter.drawText(QRect(0, r.top(), kGridHeader + 4, r.height()), Qt::AlignCenter, QString::number(l));
    for (int h = 0; h < columns; ++h) {
      const QRect cell = cellRect(l, h);
      painter.drawImage(cell, images_[size_t(l * columns + h)]);
      if (hovered_ >= 0 && hovered_ < n) {  // the hovered token's row and column
        const double step = double(kGridCell) / n;
        painter.fillRect(QRectF(cell.left(), cell.top() + hovered_ * step, cell.width(), std::max(1.0, step)), QColor(230, 120, 20, 90));
        painter.fillRect(QRectF(cell.left() + hovered_ * step, cell.top(), std::max(1.0, step), cell.height()), QColor(230, 120, 20, 90));
      }
      const bool off = togglable_ && h < heads && !mask_.empty() && l < mask_.layers && h < mask_.heads && mask_.at(l, h) == 0.0f;
      if (off) {  // switched off: greyed, crossed out and labelled, whatever its (zero) map shows
        painter.fillRect(cell, QColor(120, 120, 120, 170));
        painter.setPen(QPen(QColor(190, 0, 30), 3));
        painter.drawLine(cell.topLeft() + QPoint(6, 6), cell.bottomRight() - QPoint(6, 6));
        painter.drawLine(cell.topRight() + QPoint(-6, 6), cell.bottomLeft() + QPoint(6, -6));
        // The word on a dark label where the cross meets, so the red lines do not run through it.
        const QString word = tr("off");
        const QFontMetrics metrics = painter.fontMetrics();
        QRect label(0, 0, metrics.horizontalAdvance(word) + 6, metrics.height() + 2);
        label.moveCenter(cell.center());
        painter.fillRect(label, QColor(60, 60, 60));
        painter.setPen(Qt::white);
        painter.drawText(label, Qt::AlignCenter, word);
      }
      const bool selected = l == layer_ && (!hasMean() || (h == heads ? head_ < 0 : h == head_));
      painter.setPen(selected ? QPen(kHover, 3) : QPen(Qt::gray, 1));
      painter.setBrush(Qt::NoBrush);
      painter.drawRect(cell.adjusted(-1, -1, 0, 0));
      painter.setPen(palette().color(QPalette::WindowText));
    }
  }
}

void AttentionGrid::mousePressEvent(QMouseEvent* event) {
  if (!data_ || data_->empty()) return;
  for (int l = 0; l < data_->layers(); ++l)
    for (int h = 0; h < columns(); ++h)
      if (cellRect(l, h).contains(event->position().toPoint())) {
        const int head = hasMean() && h == data_->heads() ? -1 : h;
        const bool toggle = switchOff_ ? event->button() == Qt::LeftButton : event->button() == Qt::RightButton;
        if (toggle && togglable_ && head >= 0) {
          emit headToggled(l, head);
          return;
        }
        setSelected(l, head);
        emit selected(l, head);
        return;
      }
}

// ---- AttentionHeatmap ----

AttentionHeatmap::AttentionHeatmap(QWidget* parent) : QWidget(parent) { setMouseTracking(true); }

void AttentionHeatmap::setData(const AttentionData* data, int layer, int head) {
  data_ = data;
  layer_ = layer;
  head_ = head;
  image_ = data_ && !data_->empty() ? data_->image(layer, head) : QImage();
  map_ = data_ && !data_->empty() ? data_->map(layer, head) : std::vector<float>();
  difference_ = false;
  hovered_ = -1;
  updateGeometry();
  resize(sizeHint());
  update();
}

void AttentionHeatmap::setDifference(const AttentionData* a, const AttentionData* b, int layer, int head) {
  setData(a, layer, head);
  if (!a || a->empty() || !b || b->size() != a->size()) return;
  const std::vector<float> other = b->map(layer, head);  // (size, size)
  for (size_t i = 0; i < map_.size(); ++i) map_[i] -= other[i];
  const int n = a->size();
  image_ = QImage(n, n, QImage::Format_RGB32);
  for (int q = 0; q < n; ++q) {
    auto* line = reinterpret_cast<QRgb*>(image_.scanLine(q));
    for (int k = 0; k < n; ++k) line[k] = difference_color(map_[size_t(q) * n + k]).rgb();
  }
  difference_ = true;
  update();
}

void AttentionHeatmap::setCellSize(int pixels) {
  cell_ = std::clamp(pixels, 2, 40);
  updateGeometry();
  resize(sizeHint());
  update();
}

void AttentionHeatmap::setHoveredToken(int token) {
  if (token == hovered_) return;
  hovered_ = token;
  update();
}

int AttentionHeatmap::labelWidth() const {
  if (!data_ || data_->empty() || cell_ < 9) return 0;  // too small for readable labels: tooltips only
  int w = 0;
  for (int i = 0; i < data_->size(); ++i) w = std::max(w, fontMetrics().horizontalAdvance(data_->label(i)));
  return w + 8;
}

QSize AttentionHeatmap::sizeHint() const {
  if (!data_ || data_->empty()) return {100, 100};
  const int side = labelWidth() + data_->size() * cell_ + 4;
  return {side, side};
}

void AttentionHeatmap::paint(QPainter& painter) const {
  if (!data_ || data_->empty()) return;
  const int n = data_->size(), margin = labelWidth();
  const QRect area(margin, margin, n * cell_, n * cell_);
  painter.drawImage(area, image_);
  if (margin > 0) {
    QFont font = painter.font();
    font.setPixelSize(std::min(cell_ - 2, 13));
    painter.setFont(font);
    for (int i = 0; i < n; ++i) {
      painter.setPen(i == hovered_ ? kHover : palette().color(QPalette::WindowText));
      painter.drawText(QRect(0, margin + i * cell_, margin - 4, cell_), Qt::AlignRight | Qt::AlignVCenter, data_->label(i));
      painter.save();  // key labels, written upwards above their columns
      painter.translate(margin + i * cell_, margin - 4);
      painter.rotate(-90);
      painter.drawText(QRect(0, 0, margin - 4, cell_), Qt::AlignLeft | Qt::AlignVCenter, data_->label(i));
      painter.restore();
    }
  }
  if (hovered_ >= 0 && hovered_ < n) {
    painter.setPen(QPen(kHover, 2));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(QRect(area.left(), area.top() + hovered_ * cell_, area.width(), cell_));
    painter.drawRect(QRect(area.left() + hovered_ * cell_, area.top(), cell_, area.height()));
  }
}

void AttentionHeatmap::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  paint(painter);
}

QImage AttentionHeatmap::render() const {
  // At most ~6000 pixels a side (a 512-token map at 22-pixel cells would need half a gigabyte), but cells stay
  // large enough for labels.
  AttentionHeatmap copy;
  copy.setFont(font());
  copy.data_ = data_;
  copy.image_ = image_;
  copy.hovered_ = hovered_;
  copy.cell_ = data_ && data_->size() > 0 ? std::min(cell_, std::max(9, 6000 / data_->size())) : cell_;
  const QSize map = copy.sizeHint();
  constexpr int kLegend = 40;  // the colour scale under the map, so the file says what its colours mean
  QImage image(std::max(map.width(), 420), map.height() + kLegend, QImage::Format_RGB32);
  image.fill(Qt::white);
  QPainter painter(&image);
  painter.setFont(font());
  copy.paint(painter);
  const QRect legend(4, map.height() + 8, image.width() - 8, kLegend - 8);
  if (difference_) paint_difference_legend(painter, legend, maxWeight(), Qt::black);
  else paint_map_legend(painter, legend, maxWeight(), Qt::black);
  return image;
}

float AttentionHeatmap::maxWeight() const {
  if (map_.empty()) return -1.0f;
  if (!difference_) return *std::max_element(map_.begin(), map_.end());
  float largest = 0.0f;
  for (float d : map_) largest = std::max(largest, std::abs(d));
  return largest;
}

void AttentionHeatmap::mouseMoveEvent(QMouseEvent* event) {
  if (!data_ || data_->empty()) return;
  const int margin = labelWidth(), n = data_->size();
  const QPoint p = event->position().toPoint() - QPoint(margin, margin);
  const int q = p.y() >= 0 ? p.y() / cell_ : -1, k = p.x() >= 0 ? p.x() / cell_ : -1;
  if (q >= 0 && q < n && k >= 0 && k < n) {
    const float w = map_[size_t(q) * n + k];
    QToolTip::showText(event->globalPosition().toPoint(),
                       Qt::convertFromPlainText(difference_ ? tr("%1 → %2: A − B %3").arg(data_->label(q), data_->label(k)).arg(QString::asprintf("%+.4f", w))
                                                            : tr("%1 → %2: %3").arg(data_->label(q), data_->label(k)).arg(w, 0, 'f', 4)),
                       this);
    setHoveredToken(q);
    emit tokenHovered(q);
  } else if (q >= 0 && q < n && p.x() < 0) {  // over a row label
    setHoveredToken(q);
    emit tokenHovered(q);
  }
}

void AttentionHeatmap::leaveEvent(QEvent*) {
  setHoveredToken(-1);
  emit tokenHovered(-1);
}

}  // namespace bertscope::gui
