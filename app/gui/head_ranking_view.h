#pragma once
// The heads ranked for one input's output (EngineClient::rankHeads): a layer x head grid whose colour is the change
// in the target's probability when that head alone is switched off (red: it falls, the output needs the head; blue:
// it rises), with that change (signed as Fill mask's "vs all heads" column signs it), the rank and Michel et al.'s
// gradient importance (d logit / d head gate, the first-order estimate of the logit's drop) written in each cell.
// Click a cell to switch the head off (or back on) for every view.
#include <QWidget>

#include "engine_client.h"

namespace bertscope::gui {

class HeadRankingGrid : public QWidget {
  Q_OBJECT
 public:
  explicit HeadRankingGrid(QWidget* parent = nullptr);
  void setRanking(Ptr<RankHeadsReply> ranking);  // null: nothing ranked yet
  // The heads switched off now (EngineClient::headMask), crossed out over their cells: a head clicked off after
  // the ranking shows it here too, as in the model view. Empty: every head on.
  void setHeadMask(const HeadMask& mask);
  bool crossedOut(int layer, int head) const;  // off now, but on when ranked (its numbers are from then)
  const Ptr<RankHeadsReply>& ranking() const { return ranking_; }
  // What cell (layer, head) shows: the target's probability with that head off too minus with it on (negative: the
  // output needs the head). The engine's probability_change is the opposite, the drop.
  double change(int layer, int head) const;
  QString cellText(int layer, int head) const;  // the number written in the cell
  QString gradientText(int layer, int head) const;  // its third line: "∇ +0.33", the gradient importance
  QPoint cellCenter(int layer, int head) const;
  QSize sizeHint() const override;

 signals:
  void headClicked(int layer, int head);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;  // tooltips

 private:
  QRect cellRect(int layer, int head) const;
  bool cellAt(const QPoint& p, int* layer, int* head) const;
  Ptr<RankHeadsReply> ranking_;
  HeadMask mask_;
  std::vector<int> rank_;  // (L, A) 1 = most important; 0 for heads already off
};

}  // namespace bertscope::gui
