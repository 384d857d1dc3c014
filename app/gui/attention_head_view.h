#pragma once
// The head view, as bertviz draws it: the tokens twice, queries on the left and keys on the right, and a line from
// each query to each key it attends to, one colour per head, for every head of one layer at once. Above it: the
// layer (a slider to drag, buttons and arrow keys to step), the heads' colour swatches (click: show or hide a
// head; double-click: only that head), All / None, and for a sentence pair which part attends to which.
#include <QLineF>
#include <QWidget>
#include <vector>

#include "attention_head_model.h"

class QComboBox;
class QLabel;
class QScrollArea;
class QSlider;
class QToolButton;

namespace bertscope::gui {

class AttentionLegend;

// The lines and the two columns of tokens. Draws from HeadViewModel's lines, grouped into one drawLines call per
// head and opacity and kept between paints: nothing is allocated per frame.
class AttentionHeadCanvas : public QWidget {
  Q_OBJECT
 public:
  using Side = HeadViewModel::Side;
  struct Batch {
    int head = 0;
    QColor color;               // the head's colour, with the lines' opacity as its alpha
    std::vector<QLineF> lines;
  };

  AttentionHeadCanvas(HeadViewModel* model, QWidget* parent = nullptr);
  void modelChanged();  // after the model's data, layer, heads or filter changed
  void hoverChanged();  // after only the model's hovered token changed
  // What is drawn now (the hovered token's lines while one is hovered); built on first use after a change.
  const std::vector<Batch>& batches();
  QPoint tokenCenter(Side side, int row) const;  // where a token's label is, to hover it
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 signals:
  void hovered(bertscope::gui::HeadViewModel::Side side, int row);
  void layerStep(int delta);  // the arrow keys: previous (-1) or next (+1) layer

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent*) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  int rowHeight() const;
  int columnWidth() const;  // the widest label, capped
  double rowY(int row) const;
  int leftX() const;   // where the left column starts
  int rightX() const;  // where the right column starts
  void build(std::vector<Batch>& out, const std::vector<HeadLine>& lines) const;

  HeadViewModel* model_;
  int column_ = 40;
  std::vector<Batch> all_, hover_;
  std::vector<QLineF> visible_;  // the lines that cross the exposed rows, batch after batch; reused by every paint
  std::vector<size_t> ends_;     // where each batch's lines end in visible_
  unsigned all_revision_ = ~0u;
  int all_width_ = -1;
  bool hover_stale_ = true;
};

// Colour swatches, one per head: filled when shown, pale when hidden.
class HeadSwatches : public QWidget {
  Q_OBJECT
 public:
  HeadSwatches(HeadViewModel* model, QWidget* parent = nullptr);
  QRect swatchRect(int head) const;
  QSize sizeHint() const override;

 signals:
  void changed();

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  bool event(QEvent* event) override;  // tooltips

 private:
  int headAt(const QPoint& p) const;
  HeadViewModel* model_;
};

class HeadViewPanel : public QWidget {
  Q_OBJECT
 public:
  explicit HeadViewPanel(QWidget* parent = nullptr);
  void setData(const AttentionData* data);  // not owned; call again after it changes
  void setLayer(int layer);
  void soloHead(int head);          // from the model view: only this head; -1 (the mean): every head
  void setHoveredToken(int token);  // an AttentionData index, hovered as a query; -1: none
  void setFilter(PairFilter filter);

  HeadViewModel& model() { return model_; }
  AttentionHeadCanvas* canvas() const { return canvas_; }
  HeadSwatches* swatches() const { return swatches_; }
  QSlider* layerSlider() const { return layer_; }
  QComboBox* filterBox() const { return filter_; }

 signals:
  void layerChanged(int layer);
  void tokenHovered(int token);  // the hovered query token (AttentionData index), -1 when none

 private:
  void refresh();  // after the model changed: controls, legend, canvas

  HeadViewModel model_;
  AttentionHeadCanvas* canvas_;
  HeadSwatches* swatches_;
  QSlider* layer_;
  QLabel* layerLabel_;
  QToolButton *previous_, *next_;
  QComboBox* filter_;
  QLabel* filterLabel_;
  AttentionLegend* legend_;
  QScrollArea* scroll_;
};

}  // namespace bertscope::gui
