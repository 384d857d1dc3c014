#pragma once
// Colour scales for the attention views. Maps (the model view's small maps and the large one) colour a weight from
// white (0: no attention) to dark blue (1: all of a token's attention on one token), on a square-root scale; their
// legend marks the largest weight of the map shown. The head view's lines get their opacity from the weight
// divided by the number of heads shown (as bertviz draws them); its legend shows that.
#include <QColor>
#include <QFontMetrics>
#include <QList>
#include <QRect>
#include <QStringList>
#include <QWidget>

class QPainter;

namespace bertscope::gui {

// The colour of an attention weight in every map. The square root lifts small weights (a uniform row over 50
// tokens is 0.02 each) while keeping one absolute scale, so maps compare across heads and layers.
QColor attention_color(float weight);

// The maps' scale in `rect` (at least ~30 px high): a bar from 0 to 1 with ticks, labelled; `max_weight` >= 0 adds
// a mark at the largest weight of the map shown.
void paint_map_legend(QPainter& painter, const QRect& rect, float max_weight, const QColor& text);

// The colour of a difference of two weights (compare mode's A − B map): white at 0, red where A's weight is the
// larger, blue where B's is, on the maps' square-root scale of |difference| (1 is full colour).
QColor difference_color(float difference);

// The difference maps' scale in `rect`: a bar from −1 (B attends more) through 0 to +1 (A attends more);
// `max_difference` >= 0 adds marks at ± the largest |difference| of the map shown.
void paint_difference_legend(QPainter& painter, const QRect& rect, float max_difference, const QColor& text);

// Where paint_difference_legend puts its parts in `rect` for text of `metrics`: the bar, the labels under it (that
// never overlap: "−1 B more", "0", "A more +1", or "−1", "0", "+1" where the words do not fit) and the room for the
// "max |A − B|" value right of the bar (always wide enough for it).
struct DifferenceLegendLayout {
  QString title;
  QRect bar;
  QStringList labels;
  QList<QRect> labelRects;
  QRect value;
};
DifferenceLegendLayout difference_legend_layout(const QRect& rect, const QFontMetrics& metrics);
double difference_bar_x(const QRect& bar, float difference);  // where a difference in [-1, 1] sits along `bar`

// A legend widget above the views: the maps' scale, the head view's line opacity, or the difference maps' scale.
class AttentionLegend : public QWidget {
  Q_OBJECT
 public:
  enum class Kind { Map, Lines, Difference };
  explicit AttentionLegend(Kind kind, QWidget* parent = nullptr);
  void setMaximum(float max_weight);  // Map: the largest weight shown; Difference: the largest |A − B| (-1: none)
  void setHeadsShown(int heads);      // Lines: a line's opacity is its weight / heads shown
  float maximum() const { return max_; }
  int headsShown() const { return heads_; }
  QSize sizeHint() const override;
  // Narrower than sizeHint(): the bar shrinks to fit (to 60 px for maps, 40 px for lines), so three legends do not
  // make the window wider than a 1024-px screen.
  QSize minimumSizeHint() const override;

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  Kind kind_;
  float max_ = -1.0f;
  int heads_ = 1;
};

}  // namespace bertscope::gui
