#pragma once
// The head view's state, apart from its drawing (so tests can check what is drawn): every head of one layer at
// once, one colour per head; which heads are shown (bertviz's toggles: a click shows or hides a head, a
// double-click shows only it); for a sentence pair, which part attends to which (A -> B, ...); the hovered token.
// From these it keeps the lines to draw: a line from a query token (left) to a key token (right) per shown head,
// with opacity weight / heads shown, those too faint to see left out.
#include <QColor>
#include <vector>

#include "attention_views.h"

namespace bertscope::gui {

// Which tokens the two columns show, for a sentence pair. Sentence A is [CLS] A [SEP], B the rest (as bertviz
// splits a pair at B's first token).
enum class PairFilter { All, AToA, BToB, AToB, BToA };

struct HeadLine {
  int head = 0;       // the model's head index
  int from = 0;       // row in the left column (the query token)
  int to = 0;         // row in the right column (the key token)
  float weight = 0;   // attention of `from` on `to` in this head
};

class HeadViewModel {
 public:
  enum class Side { None, Left, Right };
  // Lines fainter than this opacity (one step of 8-bit alpha) are not drawn: they would not show, and leaving them
  // out keeps 512-token texts fast (a row sums to 1, so each row and head has fewer than 1 / (this x heads) lines).
  static constexpr float kMinOpacity = 1.0f / 255.0f;

  // `data` is not owned; call again after it changes. Keeps the layer (clamped), the head toggles when the number of
  // heads is the same, and the filter while the text is still a pair.
  void setData(const AttentionData* data);
  bool empty() const { return !data_ || data_->empty(); }
  const AttentionData* data() const { return data_; }

  int layers() const { return data_ ? data_->layers() : 0; }
  int layer() const { return layer_; }
  void setLayer(int layer);  // clamped to the model's layers

  int heads() const { return int(shown_.size()); }
  bool headShown(int head) const { return shown_.at(size_t(head)); }
  int headsShown() const;
  void toggleHead(int head);        // a click: shown <-> hidden, but the last head shown stays
  void soloHead(int head);          // a double-click: only this head; on the only head shown, every head again
  void showAllHeads(bool shown);    // the All / None buttons
  static QColor headColor(int head);  // distinct for every head of a model (12 fixed colours, then spread hues)

  bool isPair() const { return data_ && data_->isPair(); }
  PairFilter filter() const { return filter_; }
  void setFilter(PairFilter filter);  // All unless the text is a pair

  // The tokens of each column: indices into AttentionData (its shown tokens).
  const std::vector<int>& left() const { return left_; }
  const std::vector<int>& right() const { return right_; }

  // Hovering a token shows only its lines: a left token's to every key, a right token's from every query.
  void setHover(Side side, int row);  // row -1 (or Side::None): nothing hovered
  Side hoverSide() const { return hover_side_; }
  int hoverRow() const { return hover_row_; }

  float weight(int head, int from, int to) const;  // left row `from` on right row `to`, in the current layer
  float opacity(float weight) const { return weight / float(std::max(1, headsShown())); }
  // What is drawn now (the hovered token's lines while one is hovered), grouped by head in head order.
  const std::vector<HeadLine>& lines() const { return hover_row_ >= 0 ? hover_lines_ : lines_; }
  // Changes whenever the un-hovered lines change, so a view can keep its drawing of them until then.
  unsigned revision() const { return revision_; }

 private:
  void loadLayer();    // maps_ for layer_
  void setColumns();   // left_, right_ for filter_
  void rebuildLines();
  void rebuildHoverLines();
  bool wanted(int head, float w) const { return shown_[size_t(head)] && opacity(w) >= kMinOpacity; }

  const AttentionData* data_ = nullptr;
  int layer_ = 0;
  std::vector<bool> shown_;                // per head
  PairFilter filter_ = PairFilter::All;
  std::vector<int> left_, right_;
  std::vector<std::vector<float>> maps_;  // per head: (n, n) over the shown tokens, row = query, column = key
  Side hover_side_ = Side::None;
  int hover_row_ = -1;
  std::vector<HeadLine> lines_, hover_lines_;
  unsigned revision_ = 0;
};

}  // namespace bertscope::gui
