#pragma once
// Views of one text's attention: the model view (a grid of every layer x head as small maps) and a large heat map
// with token labels. They, and the head view (attention_head_view.h), read one AttentionData and share the hovered
// token.
#include <QImage>
#include <QWidget>
#include <memory>
#include <vector>

#include "model/encoder.h"
#include "tasks/tasks.h"

namespace bertscope::gui {

// The attention result and which tokens are shown (all, or all but [CLS]/[SEP]).
class AttentionData {
 public:
  AttentionData() = default;
  AttentionData(std::shared_ptr<const AttentionResult> result, bool hideSpecial);

  bool empty() const { return !result_ || visible_.empty(); }
  int layers() const { return result_ ? result_->layers : 0; }
  int heads() const { return result_ ? result_->heads : 0; }
  int size() const { return int(visible_.size()); }  // tokens shown
  const Token& token(int i) const { return result_->encoding.tokens[size_t(visible_[size_t(i)])]; }
  QString label(int i) const;
  // For a sentence pair: 0 for a token of sentence A ([CLS] A [SEP]), 1 for sentence B and the [SEP] after it, as
  // bertviz splits a pair at B's first token. 0 for every token of a single sentence.
  bool isPair() const { return second_ >= 0; }
  int sentence(int i) const { return second_ >= 0 && visible_[size_t(i)] >= second_ ? 1 : 0; }

  // (size, size) weights of the shown tokens, row = query, column = key; head -1 = mean over heads.
  std::vector<float> map(int layer, int head) const;
  // The map as a white-to-blue image, one pixel per weight (absolute scale: 1 is darkest).
  QImage image(int layer, int head) const;
  // The map as CSV: a header of key tokens, then one row per query token.
  QString csv(int layer, int head) const;

 private:
  std::shared_ptr<const AttentionResult> result_;
  std::vector<int> visible_;  // token indices into the encoding
  int second_ = -1;           // the encoding's index of sentence B's first token; -1 for a single sentence
};

// Model view: layers as rows, heads as columns, plus a mean-over-heads column. Click a map to select it; in
// switch-off mode (or with the right button) a click on a head switches it off or back on instead. Heads switched
// off are greyed and crossed out.
class AttentionGrid : public QWidget {
  Q_OBJECT
 public:
  explicit AttentionGrid(QWidget* parent = nullptr);
  void setData(const AttentionData* data);  // not owned; call again after it changes
  void setSelected(int layer, int head);
  void setHoveredToken(int token);
  void setHeadMask(const HeadMask& mask);   // the heads to show as switched off (empty: none)
  void setSwitchOffMode(bool on);           // a left click toggles a head instead of selecting it
  void setTogglable(bool togglable);        // false: clicks only select (maps that are not single heads)
  // Maps that are not heads but one per layer (rollout, flow): a single column titled `name` ("rollout"), with no
  // mean column. Empty (the default): a column per head, and their mean. Call before setData.
  void setMapName(const QString& name);
  int columns() const;                      // maps a layer shows: the heads and their mean, or the one map
  QString columnTitle(int column) const;    // "head 2", "mean", "rollout"
  QPoint cellCenter(int layer, int head) const;  // where to click map (layer, head); head -1: the mean
  QSize sizeHint() const override;

 signals:
  void selected(int layer, int head);  // head -1: mean over heads
  void headToggled(int layer, int head);  // asks to switch the head off, or back on

 protected:
  void paintEvent(QPaintEvent*) override;
  void mousePressEvent(QMouseEvent* event) override;

 private:
  QRect cellRect(int layer, int column) const;
  const AttentionData* data_ = nullptr;
  bool hasMean() const { return mapName_.isEmpty(); }
  std::vector<QImage> images_;  // per layer, per column (heads + mean, or the one map)
  QString mapName_;
  int layer_ = 0, head_ = 0, hovered_ = -1;
  HeadMask mask_;
  bool switchOff_ = false, togglable_ = true;
};

// One map, large: query tokens label the rows, key tokens the columns. Hover shows the weight.
class AttentionHeatmap : public QWidget {
  Q_OBJECT
 public:
  explicit AttentionHeatmap(QWidget* parent = nullptr);
  void setData(const AttentionData* data, int layer, int head);
  // Compare mode: model A's map minus model B's (the same layers, heads and tokens), coloured from blue (B attends
  // more) through white (0) to red (A more); labels from `a`. Both not owned.
  void setDifference(const AttentionData* a, const AttentionData* b, int layer, int head);
  bool showsDifference() const { return difference_; }
  const std::vector<float>& shownMap() const { return map_; }  // (size, size) the weights, or the differences
  void setCellSize(int pixels);
  void setHoveredToken(int token);
  QImage render() const;  // the whole map with labels and its colour scale, for export
  float maxWeight() const;  // the largest weight in the map shown, or |difference| (-1 when none)
  QSize sizeHint() const override;

 signals:
  void tokenHovered(int token);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent*) override;

 private:
  void paint(QPainter& painter) const;
  int labelWidth() const;
  const AttentionData* data_ = nullptr;
  QImage image_;
  std::vector<float> map_;  // (size, size) the weights shown, or A − B
  bool difference_ = false;
  int layer_ = 0, head_ = 0, cell_ = 16, hovered_ = -1;
};

}  // namespace bertscope::gui
