#include "head_ranking_view.h"

#include <QHelpEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace bertscope::gui {

namespace {
constexpr int kCell = 60, kGap = 4, kHeader = 20;  // a cell holds three lines: change, rank, gradient
}

HeadRankingGrid::HeadRankingGrid(QWidget* parent) : QWidget(parent) {}

void HeadRankingGrid::setRanking(Ptr<RankHeadsReply> ranking) {
  ranking_ = std::move(ranking);
  rank_.clear();
  if (ranking_) {
    const HeadRanking& r = ranking_->ranking;
    rank_.assign(size_t(r.layers) * r.heads, 0);
    for (size_t i = 0; i < r.ranking.size(); ++i) rank_[size_t(r.ranking[i].first) * r.heads + r.ranking[i].second] = int(i) + 1;
  }
  updateGeometry();
  resize(sizeHint());
  update();
}

void HeadRankingGrid::setHeadMask(const HeadMask& mask) {
  mask_ = mask;
  update();
}

bool HeadRankingGrid::crossedOut(int layer, int head) const {
  if (!ranking_ || mask_.empty() || layer >= mask_.layers || head >= mask_.heads) return false;
  const HeadRanking& r = ranking_->ranking;
  return mask_.at(layer, head) == 0.0f && !r.already_off.at(size_t(layer) * r.heads + head);
}

double HeadRankingGrid::change(int layer, int head) const {
  const HeadRanking& r = ranking_->ranking;
  return -r.probability_change.at(size_t(layer) * r.heads + head);
}

QString HeadRankingGrid::cellText(int layer, int head) const {
  if (ranking_->ranking.already_off.at(size_t(layer) * ranking_->ranking.heads + head)) return tr("off");
  return QString::asprintf("%+.1f", 100.0 * change(layer, head));  // percentage points
}

QString HeadRankingGrid::gradientText(int layer, int head) const {
  const HeadGradients& g = ranking_->gradients;
  const size_t i = size_t(layer) * ranking_->ranking.heads + head;
  if (g.gradient.size() <= i || ranking_->ranking.already_off.at(i)) return {};
  return QString::fromUtf8("\u2207 ") + QString::asprintf("%+.2f", g.gradient[i]);
}

QRect HeadRankingGrid::cellRect(int layer, int head) const {
  return {kHeader + 8 + head * (kCell + kGap), kHeader + layer * (kCell + kGap), kCell, kCell};
}

QPoint HeadRankingGrid::cellCenter(int layer, int head) const { return cellRect(layer, head).center(); }

QSize HeadRankingGrid::sizeHint() const {
  if (!ranking_) return {200, 60};
  const QRect last = cellRect(ranking_->ranking.layers - 1, ranking_->ranking.heads - 1);
  return {last.right() + 4, last.bottom() + 4};
}

bool HeadRankingGrid::cellAt(const QPoint& p, int* layer, int* head) const {
  if (!ranking_) return false;
  for (int l = 0; l < ranking_->ranking.layers; ++l)
    for (int h = 0; h < ranking_->ranking.heads; ++h)
      if (cellRect(l, h).contains(p)) {
        *layer = l;
        *head = h;
        return true;
      }
  return false;
}

void HeadRankingGrid::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  if (!ranking_) {
    painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, tr("Press Rank heads to rank them for this input."));
    return;
  }
  const HeadRanking& r = ranking_->ranking;
  // One scale for the grid: the largest change, either way, is full colour.
  double largest = 1e-9;
  for (double d : r.probability_change) largest = std::max(largest, std::abs(d));
  const QColor text = palette().color(QPalette::WindowText);
  for (int h = 0; h < r.heads; ++h) {
    painter.setPen(text);
    const QRect c = cellRect(0, h);
    painter.drawText(QRect(c.left(), 0, c.width(), kHeader), Qt::AlignCenter, tr("head %1").arg(h));
  }
  for (int l = 0; l < r.layers; ++l) {
    const QRect first = cellRect(l, 0);
    painter.setPen(text);
    painter.drawText(QRect(0, first.top(), kHeader + 4, first.height()), Qt::AlignCenter, QString::number(l));
    for (int h = 0; h < r.heads; ++h) {
      const QRect cell = cellRect(l, h);
      const size_t i = size_t(l) * r.heads + h;
      const double t = std::min(1.0, std::abs(r.probability_change[i]) / largest);
      // White to red for a fall (the output needs the head), white to blue for a rise.
      const QColor full = change(l, h) <= 0 ? QColor(200, 30, 40) : QColor(30, 90, 200);
      const QColor fill = r.already_off[i] ? QColor(150, 150, 150)
                                           : QColor(int(255 + t * (full.red() - 255)), int(255 + t * (full.green() - 255)),
                                                    int(255 + t * (full.blue() - 255)));
      painter.fillRect(cell, fill);
      painter.setPen(QPen(Qt::gray, 1));
      painter.drawRect(cell.adjusted(0, 0, -1, -1));
      painter.setPen(t > 0.55 || r.already_off[i] ? Qt::white : Qt::black);
      QString lines = cellText(l, h) + (rank_[i] > 0 ? QStringLiteral("\n#%1").arg(rank_[i]) : QString());
      if (const QString gradient = gradientText(l, h); !gradient.isEmpty()) lines += QLatin1Char('\n') + gradient;
      painter.drawText(cell, Qt::AlignCenter, lines);
      if (crossedOut(l, h)) {  // switched off since the ranking: crossed out as in the model view, numbers kept
        painter.setPen(QPen(QColor(190, 0, 30, 200), 3));
        painter.drawLine(cell.topLeft() + QPoint(4, 4), cell.bottomRight() - QPoint(4, 4));
        painter.drawLine(cell.topRight() + QPoint(-4, 4), cell.bottomLeft() + QPoint(4, -4));
      }
    }
  }
}

void HeadRankingGrid::mousePressEvent(QMouseEvent* event) {
  int layer = 0, head = 0;
  if (cellAt(event->position().toPoint(), &layer, &head)) emit headClicked(layer, head);
}

bool HeadRankingGrid::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    int layer = 0, head = 0;
    if (cellAt(help->pos(), &layer, &head)) {
      const HeadRanking& r = ranking_->ranking;
      const size_t i = size_t(layer) * r.heads + head;
      QString tip = r.already_off[i] ? tr("Layer %1, head %2: already switched off").arg(layer).arg(head)
                                     : tr("Layer %1, head %2: rank %3 of %4\nWithout it, %5's probability changes by "
                                          "%6 (logit %7).\nGradient importance (Michel et al. 2019), %8: the logit's "
                                          "derivative with respect to the head's gate, the first-order estimate of "
                                          "the logit's drop.\nClick to switch it off or on.")
                                           .arg(layer).arg(head).arg(rank_[i]).arg(r.ranking.size())
                                           .arg(ranking_->target_text)
                                           .arg(QString::asprintf("%+.2f pts", -100.0 * r.probability_change[i]))
                                           .arg(QString::asprintf("%+.3f", -r.logit_change[i]))
                                           .arg(gradientText(layer, head));
      if (crossedOut(layer, head)) tip += tr("\nSwitched off since this ranking; its numbers are from before.");
      QToolTip::showText(help->globalPos(), tip, this);
    } else {
      QToolTip::hideText();
    }
    return true;
  }
  return QWidget::event(event);
}

}  // namespace bertscope::gui
