#include "attention_head_model.h"

#include <algorithm>

namespace bertscope::gui {

void HeadViewModel::setData(const AttentionData* data) {
  data_ = data;
  const int heads = data_ && !data_->empty() ? data_->heads() : 0;
  if (int(shown_.size()) != heads) shown_.assign(size_t(heads), true);
  if (!isPair()) filter_ = PairFilter::All;
  hover_side_ = Side::None;
  hover_row_ = -1;
  layer_ = std::clamp(layer_, 0, std::max(0, layers() - 1));
  setColumns();
  loadLayer();
  rebuildLines();
}

void HeadViewModel::setLayer(int layer) {
  layer = std::clamp(layer, 0, std::max(0, layers() - 1));
  if (layer == layer_) return;
  layer_ = layer;
  loadLayer();
  rebuildLines();
  rebuildHoverLines();
}

int HeadViewModel::headsShown() const { return int(std::count(shown_.begin(), shown_.end(), true)); }

void HeadViewModel::toggleHead(int head) {
  if (head < 0 || head >= heads()) return;
  if (shown_[size_t(head)] && headsShown() == 1) return;  // bertviz: a click never hides the last head
  shown_[size_t(head)] = !shown_[size_t(head)];
  rebuildLines();
  rebuildHoverLines();
}

void HeadViewModel::soloHead(int head) {
  if (head < 0 || head >= heads()) return;
  const bool only = shown_[size_t(head)] && headsShown() == 1;
  shown_.assign(shown_.size(), only);
  shown_[size_t(head)] = true;
  rebuildLines();
  rebuildHoverLines();
}

void HeadViewModel::showAllHeads(bool shown) {
  shown_.assign(shown_.size(), shown);
  rebuildLines();
  rebuildHoverLines();
}

QColor HeadViewModel::headColor(int head) {
  // Twelve well-separated colours (bert-base has 12 heads), then hues spread by the golden angle.
  static const QRgb kColors[] = {0x1f6fd1, 0xf07f16, 0x2ca02c, 0xd62c2c, 0x8e5cc9, 0x8a5433,
                                 0xe05cb5, 0x707070, 0xa6a820, 0x12b3c4, 0x1b3b8c, 0x7fc97f};
  if (head >= 0 && head < int(std::size(kColors))) return QColor(kColors[head]);
  return QColor::fromHsv(int(head * 137.508) % 360, 200, 200);
}

void HeadViewModel::setFilter(PairFilter filter) {
  if (!isPair()) filter = PairFilter::All;
  if (filter == filter_) return;
  filter_ = filter;
  hover_side_ = Side::None;
  hover_row_ = -1;
  setColumns();
  rebuildLines();
}

void HeadViewModel::setColumns() {
  left_.clear();
  right_.clear();
  if (empty()) return;
  // Each side's sentence: -1 both, else 0 (A) or 1 (B).
  int from = -1, to = -1;
  switch (filter_) {
    case PairFilter::All: break;
    case PairFilter::AToA: from = to = 0; break;
    case PairFilter::BToB: from = to = 1; break;
    case PairFilter::AToB: from = 0, to = 1; break;
    case PairFilter::BToA: from = 1, to = 0; break;
  }
  for (int i = 0; i < data_->size(); ++i) {
    if (from < 0 || data_->sentence(i) == from) left_.push_back(i);
    if (to < 0 || data_->sentence(i) == to) right_.push_back(i);
  }
}

void HeadViewModel::loadLayer() {
  maps_.clear();
  if (empty()) return;
  for (int h = 0; h < heads(); ++h) maps_.push_back(data_->map(layer_, h));
}

float HeadViewModel::weight(int head, int from, int to) const {
  return maps_[size_t(head)][size_t(left_[size_t(from)]) * size_t(data_->size()) + size_t(right_[size_t(to)])];
}

void HeadViewModel::rebuildLines() {
  ++revision_;
  lines_.clear();
  if (empty()) return;
  for (int h = 0; h < heads(); ++h) {
    if (!shown_[size_t(h)]) continue;
    for (int q = 0; q < int(left_.size()); ++q)
      for (int k = 0; k < int(right_.size()); ++k)
        if (const float w = weight(h, q, k); wanted(h, w)) lines_.push_back({h, q, k, w});
  }
}

void HeadViewModel::setHover(Side side, int row) {
  const int rows = side == Side::Left ? int(left_.size()) : side == Side::Right ? int(right_.size()) : 0;
  if (side == Side::None || row < 0 || row >= rows) side = Side::None, row = -1;
  if (side == hover_side_ && row == hover_row_) return;
  hover_side_ = side;
  hover_row_ = row;
  rebuildHoverLines();
}

void HeadViewModel::rebuildHoverLines() {
  hover_lines_.clear();
  if (empty() || hover_row_ < 0) return;
  for (int h = 0; h < heads(); ++h) {
    if (!shown_[size_t(h)]) continue;
    if (hover_side_ == Side::Left) {
      for (int k = 0; k < int(right_.size()); ++k)
        if (const float w = weight(h, hover_row_, k); wanted(h, w)) hover_lines_.push_back({h, hover_row_, k, w});
    } else {
      for (int q = 0; q < int(left_.size()); ++q)
        if (const float w = weight(h, q, hover_row_); wanted(h, w)) hover_lines_.push_back({h, q, hover_row_, w});
    }
  }
}

}  // namespace bertscope::gui
