#include "token_strip.h"

#include <QMouseEvent>
#include <QPainter>
#include <QTextDocument>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace bertscope::gui {

namespace {
constexpr int kPadding = 5;   // inside a chip
constexpr int kWordGap = 6;   // between words
constexpr int kLineGap = 6;

// White at 0, towards red (positive) or blue (negative); at most 85% of the way, so that the text stays readable.
QColor heat_color(float value) {
  const double a = std::clamp(double(std::abs(value)), 0.0, 1.0) * 0.85;
  const QColor full = value >= 0 ? QColor(214, 39, 40) : QColor(31, 119, 180);
  return QColor::fromRgbF(float(1 - a * (1 - full.redF())), float(1 - a * (1 - full.greenF())), float(1 - a * (1 - full.blueF())));
}
}  // namespace

TokenStrip::TokenStrip(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
  policy.setHeightForWidth(true);
  setSizePolicy(policy);
}

void TokenStrip::setEncoding(const Encoding& encoding, const std::vector<bool>& continues) {
  encoding_ = encoding;
  continues_ = continues;
  heat_.clear();
  notes_.clear();
  highlighted_ = hovered_ = -1;
  layoutChips(width(), &chips_);
  updateGeometry();
  update();
}

void TokenStrip::setShowIds(bool show) {
  showIds_ = show;
  layoutChips(width(), &chips_);
  updateGeometry();
  update();
}

void TokenStrip::setHighlighted(int token) {
  if (token == highlighted_) return;
  highlighted_ = token;
  update();
}

void TokenStrip::setHeat(const std::vector<float>& heat, const std::vector<QString>& notes) {
  heat_ = heat;
  notes_ = notes;
  update();
}

// Texts arrive readable (RoBERTa's " world"); a leading space would only widen the chip, as the gap shows it.
QString TokenStrip::label(const Token& token) const { return QString::fromStdString(token.text).trimmed(); }

int TokenStrip::rowPitch() const {
  return QFontMetrics(font()).height() * (showIds_ ? 2 : 1) + 2 * kPadding + kLineGap;
}

int TokenStrip::layoutChips(int width, std::vector<QRect>* out) const {
  const QFontMetrics metrics(font());
  const int line = rowPitch() - kLineGap;
  int x = 0, y = 0;
  out->clear();
  for (size_t i = 0; i < encoding_.tokens.size(); ++i) {
    const Token& t = encoding_.tokens[i];
    int w = metrics.horizontalAdvance(label(t)) + 2 * kPadding;
    if (showIds_) w = std::max(w, metrics.horizontalAdvance(QString::number(t.id)) + 2 * kPadding);
    const bool joined = i > 0 && continues(i);
    int left = x + (joined || i == 0 ? 0 : kWordGap);
    if (left + w > width && x > 0) {  // wrap
      left = 0;
      y += rowPitch();
    }
    out->emplace_back(left, y, w, line);
    x = left + w;
  }
  return encoding_.tokens.empty() ? 0 : y + line + 1;
}

int TokenStrip::heightForWidth(int width) const {
  std::vector<QRect> chips;
  return layoutChips(width, &chips);
}

QSize TokenStrip::sizeHint() const { return {400, std::max(heightForWidth(std::max(width(), 400)), 20)}; }

void TokenStrip::resizeEvent(QResizeEvent*) { layoutChips(width(), &chips_); }

void TokenStrip::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setRenderHint(QPainter::Antialiasing);
  const QFontMetrics metrics(font());
  static const QColor word_colors[] = {QColor(214, 234, 248), QColor(213, 245, 227), QColor(252, 243, 207),
                                       QColor(245, 219, 235)};
  for (size_t i = 0; i < chips_.size() && i < encoding_.tokens.size(); ++i) {
    const Token& t = encoding_.tokens[i];
    const QRect r = chips_[i];
    QColor fill = t.special ? QColor(225, 225, 225) : word_colors[(t.word < 0 ? 0 : t.word) % 4];
    const bool marked = int(i) == highlighted_ || int(i) == hovered_;
    if (i < heat_.size()) fill = heat_color(heat_[i]);  // a heat strip marks by a thicker outline instead
    else if (marked) fill = QColor(255, 200, 90);
    painter.setPen(t.unknown ? QPen(Qt::red, 2) : i < heat_.size() && marked ? QPen(Qt::black, 2) : QPen(fill.darker(130), 1));
    painter.setBrush(fill);
    painter.drawRoundedRect(QRectF(r).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4);
    QRect text_rect(r.left(), r.top() + kPadding, r.width(), metrics.height());
    painter.setPen(t.unknown ? Qt::red : palette().color(QPalette::WindowText));
    painter.drawText(text_rect, Qt::AlignHCenter | Qt::AlignVCenter, label(t));
    if (t.sequence == 1)  // second sentence
      painter.drawLine(r.left() + 3, r.bottom() - 2, r.right() - 3, r.bottom() - 2);
    if (showIds_) {
      painter.setPen(palette().color(QPalette::PlaceholderText));
      painter.drawText(text_rect.translated(0, metrics.height()), Qt::AlignHCenter | Qt::AlignVCenter,
                       QString::number(t.id));
    }
  }
}

int TokenStrip::tokenAt(QPoint point) const {
  for (size_t i = 0; i < chips_.size(); ++i)
    if (chips_[i].contains(point)) return int(i);
  return -1;
}

void TokenStrip::mouseMoveEvent(QMouseEvent* event) {
  const int token = tokenAt(event->position().toPoint());
  if (token != hovered_) {
    hovered_ = token;
    update();
    emit tokenHovered(token);
  }
  if (token >= 0) {
    const Token& t = encoding_.tokens[size_t(token)];
    QString tip = tr("token %1: \"%2\", id %3").arg(token).arg(QString::fromStdString(t.text)).arg(t.id);
    if (showTypes_) tip += tr(", type %1").arg(t.type_id);
    if (t.unknown) tip += tr("\nnot in the vocabulary: the word became [UNK]");
    if (size_t(token) < notes_.size() && !notes_[size_t(token)].isEmpty()) tip += QStringLiteral("\n") + notes_[size_t(token)];
    if (clickable_ && !t.special) tip += tr("\nclick to mask this word");
    QToolTip::showText(event->globalPosition().toPoint(), Qt::convertFromPlainText(tip), this);  // "<s>" is a token, not markup
  }
}

void TokenStrip::mousePressEvent(QMouseEvent* event) {
  const int token = tokenAt(event->position().toPoint());
  if (token >= 0 && event->button() == Qt::LeftButton) emit tokenClicked(token);
}

void TokenStrip::leaveEvent(QEvent*) {
  if (hovered_ != -1) {
    hovered_ = -1;
    update();
    emit tokenHovered(-1);
  }
}

}  // namespace bertscope::gui
