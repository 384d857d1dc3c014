#include "attention_head_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QScrollArea>
#include <QSlider>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "attention_legend.h"

namespace bertscope::gui {

namespace {
constexpr int kTop = 6;             // space above the first token
constexpr int kGap = 6;             // between a label and the lines
constexpr int kMaxColumn = 180;     // labels wider than this are elided
constexpr int kMinLines = 120;      // the width the lines span, between the two columns: bertviz keeps it narrow,
constexpr int kMaxLines = 320;      // which also keeps the crossings of many lines from forming wide stripes
constexpr int kSwatch = 20;
constexpr int kAntialiasedLines = 1500;  // more lines in view than this are drawn without antialiasing (3x faster)
const QColor kHover(230, 120, 20);
// The part of `line` between heights `top` and `bottom` (which it crosses): the painter strokes only that, not a
// line thousands of pixels long of which the window shows a sliver.
QLineF clipped(const QLineF& line, double top, double bottom) {
  const double dy = line.dy();
  if (std::abs(dy) < 1e-9) return line;
  auto at = [&](double y) { return QPointF(line.x1() + line.dx() * (y - line.y1()) / dy, y); };
  QPointF a = line.p1(), b = line.p2();
  if (a.y() < top) a = at(top);
  else if (a.y() > bottom) a = at(bottom);
  if (b.y() < top) b = at(top);
  else if (b.y() > bottom) b = at(bottom);
  return {a, b};
}
}  // namespace

// ---- AttentionHeadCanvas ----

AttentionHeadCanvas::AttentionHeadCanvas(HeadViewModel* model, QWidget* parent) : QWidget(parent), model_(model) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
}

void AttentionHeadCanvas::modelChanged() {
  int w = 40;
  if (!model_->empty())
    for (const std::vector<int>* column : {&model_->left(), &model_->right()})
      for (int i : *column) w = std::max(w, fontMetrics().horizontalAdvance(model_->data()->label(i)) + 2 * kGap);
  column_ = std::min(w, kMaxColumn);
  hover_stale_ = true;
  updateGeometry();
  update();
}

void AttentionHeadCanvas::hoverChanged() {
  hover_stale_ = true;
  update();
}

int AttentionHeadCanvas::rowHeight() const { return fontMetrics().height() + 6; }
int AttentionHeadCanvas::columnWidth() const { return column_; }
double AttentionHeadCanvas::rowY(int row) const { return kTop + (row + 0.5) * rowHeight(); }

// The two columns and the lines between them, centred in the canvas.
int AttentionHeadCanvas::leftX() const {
  const int lines = std::clamp(width() - 2 * column_, kMinLines, kMaxLines);
  return std::max(0, (width() - 2 * column_ - lines) / 2);
}
int AttentionHeadCanvas::rightX() const { return leftX() + column_ + std::clamp(width() - 2 * column_, kMinLines, kMaxLines); }

QSize AttentionHeadCanvas::minimumSizeHint() const {
  const int rows = int(std::max(model_->left().size(), model_->right().size()));
  return {2 * column_ + kMinLines, kTop + rows * rowHeight() + 8};
}

QSize AttentionHeadCanvas::sizeHint() const { return minimumSizeHint() + QSize(200, 0); }

QPoint AttentionHeadCanvas::tokenCenter(Side side, int row) const {
  return {side == Side::Left ? leftX() + column_ / 2 : rightX() + column_ / 2, int(rowY(row))};
}

void AttentionHeadCanvas::build(std::vector<Batch>& out, const std::vector<HeadLine>& lines) const {
  out.clear();
  const double x1 = leftX() + column_, x2 = rightX();
  // One batch per head and 8-bit alpha: the lines arrive grouped by head, so a slot table per head finds the batch.
  std::vector<int> slot(256, -1);
  int head = -1;
  for (const HeadLine& line : lines) {
    if (line.head != head) {
      head = line.head;
      std::fill(slot.begin(), slot.end(), -1);
    }
    const int alpha = std::clamp(int(std::lround(255.0f * model_->opacity(line.weight))), 1, 255);
    if (slot[size_t(alpha)] < 0) {
      slot[size_t(alpha)] = int(out.size());
      QColor color = HeadViewModel::headColor(head);
      color.setAlpha(alpha);
      out.push_back({head, color, {}});
    }
    out[size_t(slot[size_t(alpha)])].lines.emplace_back(x1, rowY(line.from), x2, rowY(line.to));
  }
}

const std::vector<AttentionHeadCanvas::Batch>& AttentionHeadCanvas::batches() {
  if (model_->hoverRow() >= 0) {
    if (hover_stale_) build(hover_, model_->lines());
    hover_stale_ = false;
    return hover_;
  }
  if (all_revision_ != model_->revision() || all_width_ != width()) {
    build(all_, model_->lines());
    all_revision_ = model_->revision();
    all_width_ = width();
  }
  return all_;
}

void AttentionHeadCanvas::paintEvent(QPaintEvent* event) {
  QPainter painter(this);
  if (model_->empty()) return;
  const int row = rowHeight(), column = column_, left = leftX(), right = rightX();
  const QRect exposed = event->rect();
  const int hovered = model_->hoverRow();
  const Side side = model_->hoverSide();

  if (hovered >= 0) {
    // The hovered token's background, and on the other side bertviz's boxes: per key (or query), one box per head
    // shown, as opaque as that head's weight.
    const int x = side == Side::Left ? left : right;
    painter.fillRect(QRect(x, kTop + hovered * row, column, row), QColor(225, 225, 225));
    const int shown = model_->headsShown(), others = int(side == Side::Left ? model_->right().size() : model_->left().size());
    const int ox = side == Side::Left ? right : left;
    for (int i = 0; i < others && shown > 0; ++i) {
      const QRect box(ox, kTop + i * row, column, row);
      if (!box.intersects(exposed)) continue;
      int slot = 0;
      for (int h = 0; h < model_->heads(); ++h) {
        if (!model_->headShown(h)) continue;
        const float w = side == Side::Left ? model_->weight(h, hovered, i) : model_->weight(h, i, hovered);
        QColor color = HeadViewModel::headColor(h);
        color.setAlphaF(std::clamp(w, 0.0f, 1.0f));
        const int x0 = box.left() + slot * column / shown, x1 = box.left() + (slot + 1) * column / shown;
        painter.fillRect(QRect(x0, box.top(), x1 - x0, box.height()), color);
        ++slot;
      }
    }
  }

  // Only the lines that cross the exposed rows, cut to them: a 512-token text is ~11,000 pixels tall, a window shows
  // a few hundred, and scrolling exposes a strip. visible_ and ends_ keep their capacity between paints.
  const std::vector<Batch>& drawn = batches();
  const double top = exposed.top() - 2, bottom = exposed.bottom() + 2;
  visible_.clear();
  ends_.clear();
  for (const Batch& b : drawn) {
    for (const QLineF& l : b.lines)
      if (std::min(l.y1(), l.y2()) <= bottom && std::max(l.y1(), l.y2()) >= top) visible_.push_back(clipped(l, top, bottom));
    ends_.push_back(visible_.size());
  }
  // Antialiased unless the window shows many lines, decided on the whole visible part (not the exposed strip), so a
  // scroll never draws a line half smooth and half not.
  const QRect shown = visibleRegion().isEmpty() ? exposed : visibleRegion().boundingRect().united(exposed);
  size_t in_view = 0;
  for (const Batch& b : drawn)
    for (const QLineF& l : b.lines) in_view += std::min(l.y1(), l.y2()) <= shown.bottom() && std::max(l.y1(), l.y2()) >= shown.top();
  painter.setRenderHint(QPainter::Antialiasing, in_view <= size_t(kAntialiasedLines));
  for (size_t i = 0, begin = 0; i < drawn.size(); begin = ends_[i++]) {
    if (ends_[i] == begin) continue;
    painter.setPen(QPen(drawn[i].color, 2));
    painter.drawLines(visible_.data() + begin, int(ends_[i] - begin));
  }
  painter.setRenderHint(QPainter::Antialiasing, false);

  const QColor text = palette().color(QPalette::WindowText);
  auto label = [&](int token, const QRect& r, Qt::Alignment align, bool hot) {
    if (!r.intersects(exposed)) return;
    painter.setPen(hot ? kHover : text);
    const QString s = fontMetrics().elidedText(model_->data()->label(token), Qt::ElideRight, r.width());
    painter.drawText(r, align | Qt::AlignVCenter, s);
  };
  for (int i = 0; i < int(model_->left().size()); ++i)
    label(model_->left()[size_t(i)], QRect(left, kTop + i * row, column - kGap, row), Qt::AlignRight,
          side == Side::Left && i == hovered);
  for (int i = 0; i < int(model_->right().size()); ++i)
    label(model_->right()[size_t(i)], QRect(right + kGap, kTop + i * row, column - kGap, row), Qt::AlignLeft,
          side == Side::Right && i == hovered);
}

void AttentionHeadCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (model_->empty()) return;
  const QPoint p = event->position().toPoint();
  const int row = p.y() >= kTop ? (p.y() - kTop) / rowHeight() : -1;
  Side side = p.x() >= leftX() && p.x() < leftX() + column_ ? Side::Left
              : p.x() >= rightX() && p.x() < rightX() + column_ ? Side::Right : Side::None;
  const int rows = int(side == Side::Left ? model_->left().size() : model_->right().size());
  if (side == Side::None || row < 0 || row >= rows) side = Side::None;
  const int r = side == Side::None ? -1 : row;
  if (side == model_->hoverSide() && r == model_->hoverRow()) return;
  model_->setHover(side, r);
  hover_stale_ = true;
  update();
  emit hovered(side, r);
}

void AttentionHeadCanvas::leaveEvent(QEvent*) {
  if (model_->hoverRow() < 0) return;
  model_->setHover(Side::None, -1);
  update();
  emit hovered(Side::None, -1);
}

void AttentionHeadCanvas::keyPressEvent(QKeyEvent* event) {
  switch (event->key()) {
    case Qt::Key_Left: case Qt::Key_Minus: emit layerStep(-1); break;
    case Qt::Key_Right: case Qt::Key_Plus: emit layerStep(+1); break;
    default: QWidget::keyPressEvent(event);
  }
}

// ---- HeadSwatches ----

HeadSwatches::HeadSwatches(HeadViewModel* model, QWidget* parent) : QWidget(parent), model_(model) {
  setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
}

QRect HeadSwatches::swatchRect(int head) const { return {head * (kSwatch + 3), 0, kSwatch, kSwatch}; }

QSize HeadSwatches::sizeHint() const { return {std::max(1, model_->heads()) * (kSwatch + 3), kSwatch}; }

int HeadSwatches::headAt(const QPoint& p) const {
  for (int h = 0; h < model_->heads(); ++h)
    if (swatchRect(h).contains(p)) return h;
  return -1;
}

void HeadSwatches::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  QFont font = painter.font();
  font.setPixelSize(10);
  painter.setFont(font);
  for (int h = 0; h < model_->heads(); ++h) {
    const bool shown = model_->headShown(h);
    QColor color = HeadViewModel::headColor(h);
    if (!shown) color = QColor::fromHslF(color.hslHueF(), color.hslSaturationF() * 0.4f, 0.88f);  // pale when hidden
    const QRect r = swatchRect(h);
    painter.fillRect(r, color);
    painter.setPen(shown ? Qt::white : QColor(120, 120, 120));
    painter.drawText(r, Qt::AlignCenter, QString::number(h));
  }
}

void HeadSwatches::mousePressEvent(QMouseEvent* event) {
  const int h = headAt(event->position().toPoint());
  if (h < 0) return;
  model_->toggleHead(h);
  update();
  emit changed();
}

void HeadSwatches::mouseDoubleClickEvent(QMouseEvent* event) {
  const int h = headAt(event->position().toPoint());
  if (h < 0) return;
  model_->soloHead(h);
  update();
  emit changed();
}

bool HeadSwatches::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const int h = headAt(help->pos());
    if (h >= 0)
      QToolTip::showText(help->globalPos(), tr("Head %1 (%2). Click: show or hide it; double-click: only this head "
                                               "(double-click again: every head).")
                                                .arg(h).arg(model_->headShown(h) ? tr("shown") : tr("hidden")), this);
    else
      QToolTip::hideText();
    return true;
  }
  return QWidget::event(event);
}

// ---- HeadViewPanel ----

HeadViewPanel::HeadViewPanel(QWidget* parent) : QWidget(parent) {
  canvas_ = new AttentionHeadCanvas(&model_, this);
  swatches_ = new HeadSwatches(&model_, this);
  layer_ = new QSlider(Qt::Horizontal, this);
  layer_->setPageStep(1);
  layer_->setTickPosition(QSlider::TicksBelow);
  layer_->setMinimumWidth(120);
  layer_->setToolTip(tr("Layer: drag, or use the arrow keys"));
  layerLabel_ = new QLabel(this);
  previous_ = new QToolButton(this);
  previous_->setArrowType(Qt::LeftArrow);
  previous_->setToolTip(tr("Previous layer (←)"));
  next_ = new QToolButton(this);
  next_->setArrowType(Qt::RightArrow);
  next_->setToolTip(tr("Next layer (→)"));
  filter_ = new QComboBox(this);
  filter_->addItem(tr("All tokens"), int(PairFilter::All));
  filter_->addItem(tr("Sentence A → A"), int(PairFilter::AToA));
  filter_->addItem(tr("Sentence B → B"), int(PairFilter::BToB));
  filter_->addItem(tr("Sentence A → B"), int(PairFilter::AToB));
  filter_->addItem(tr("Sentence B → A"), int(PairFilter::BToA));
  filter_->setToolTip(tr("Which tokens attend to which: left, the tokens looking; right, the tokens looked at"));
  filterLabel_ = new QLabel(tr("Attention:"), this);
  auto* all = new QToolButton(this);
  all->setText(tr("All"));
  all->setToolTip(tr("Show every head"));
  auto* none = new QToolButton(this);
  none->setText(tr("None"));
  none->setToolTip(tr("Hide every head"));
  legend_ = new AttentionLegend(AttentionLegend::Kind::Lines, this);
  auto* hint = new QLabel(tr("Left: each token; right: the tokens it attends to, one colour per head. Hover a token "
                             "to see only its lines. Click a colour to show or hide that head, double-click it to see "
                             "only that head."),
                          this);
  hint->setWordWrap(true);
  hint->setStyleSheet(QStringLiteral("color: gray;"));

  scroll_ = new QScrollArea(this);
  scroll_->setWidget(canvas_);
  scroll_->setWidgetResizable(true);  // the canvas takes the width; its height scrolls

  auto* layers = new QHBoxLayout;
  layers->addWidget(new QLabel(tr("Layer"), this));
  layers->addWidget(previous_);
  layers->addWidget(layer_, 1);
  layers->addWidget(next_);
  layers->addWidget(layerLabel_);
  layers->addSpacing(16);
  layers->addWidget(filterLabel_);
  layers->addWidget(filter_);
  auto* heads = new QHBoxLayout;
  heads->addWidget(new QLabel(tr("Heads"), this));
  heads->addWidget(swatches_);
  heads->addWidget(all);
  heads->addWidget(none);
  heads->addStretch(1);
  heads->addWidget(legend_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(layers);
  layout->addLayout(heads);
  layout->addWidget(hint);
  layout->addWidget(scroll_, 1);

  connect(layer_, &QSlider::valueChanged, this, [this](int layer) {
    if (layer == model_.layer()) return;
    model_.setLayer(layer);
    refresh();
    emit layerChanged(model_.layer());
  });
  auto step = [this](int delta) { layer_->setValue(model_.layer() + delta); };  // the slider clamps and says so
  connect(previous_, &QToolButton::clicked, this, [step] { step(-1); });
  connect(next_, &QToolButton::clicked, this, [step] { step(+1); });
  connect(canvas_, &AttentionHeadCanvas::layerStep, this, step);
  connect(filter_, &QComboBox::currentIndexChanged, this, [this] { setFilter(PairFilter(filter_->currentData().toInt())); });
  connect(swatches_, &HeadSwatches::changed, this, &HeadViewPanel::refresh);
  connect(all, &QToolButton::clicked, this, [this] {
    model_.showAllHeads(true);
    refresh();
  });
  connect(none, &QToolButton::clicked, this, [this] {
    model_.showAllHeads(false);
    refresh();
  });
  connect(canvas_, &AttentionHeadCanvas::hovered, this, [this](HeadViewModel::Side side, int row) {
    emit tokenHovered(side == HeadViewModel::Side::Left ? model_.left()[size_t(row)] : -1);
  });
  refresh();
}

void HeadViewPanel::setData(const AttentionData* data) {
  model_.setData(data);
  refresh();
}

void HeadViewPanel::setLayer(int layer) {
  model_.setLayer(layer);
  refresh();
}

void HeadViewPanel::soloHead(int head) {
  if (head < 0) model_.showAllHeads(true);
  else if (!(model_.headShown(head) && model_.headsShown() == 1)) model_.soloHead(head);  // already alone: stays
  refresh();
}

void HeadViewPanel::setFilter(PairFilter filter) {
  model_.setFilter(filter);
  refresh();
}

void HeadViewPanel::setHoveredToken(int token) {
  // A key hovered on the right is the head view's own (the other views follow only queries): -1 leaves it.
  if (token < 0 && model_.hoverSide() == HeadViewModel::Side::Right) return;
  const auto& left = model_.left();
  const auto it = std::find(left.begin(), left.end(), token);
  const int row = token >= 0 && it != left.end() ? int(it - left.begin()) : -1;
  if (row == model_.hoverRow() && (row < 0 || model_.hoverSide() == HeadViewModel::Side::Left)) return;
  model_.setHover(HeadViewModel::Side::Left, row);
  canvas_->hoverChanged();
}

void HeadViewPanel::refresh() {
  const bool has = !model_.empty();
  for (QWidget* w : std::initializer_list<QWidget*>{layer_, previous_, next_}) w->setEnabled(has && model_.layers() > 1);
  layer_->blockSignals(true);
  layer_->setRange(0, std::max(0, model_.layers() - 1));
  layer_->setValue(model_.layer());
  layer_->blockSignals(false);
  previous_->setEnabled(has && model_.layer() > 0);
  next_->setEnabled(has && model_.layer() + 1 < model_.layers());
  layerLabel_->setText(has ? tr("%1 (0–%2)").arg(model_.layer()).arg(model_.layers() - 1) : QString());
  // The pair filter only for a sentence pair (bertviz shows it only then too).
  filter_->setVisible(model_.isPair());
  filterLabel_->setVisible(model_.isPair());
  filter_->blockSignals(true);
  filter_->setCurrentIndex(filter_->findData(int(model_.filter())));
  filter_->blockSignals(false);
  swatches_->updateGeometry();
  swatches_->update();
  legend_->setHeadsShown(model_.headsShown());
  canvas_->modelChanged();
}

}  // namespace bertscope::gui
