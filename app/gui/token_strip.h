#pragma once
// TokenStrip: an encoding drawn as a wrapped row of chips, one per token. Pieces of one word touch
// (continuations, "##ing" or BPE's "ing", are joined to their word), words alternate colours, [UNK] is outlined in red, special
// tokens are grey, second-sentence tokens are underlined. Hovering a chip reports its index; clicking reports it
// too (the fill-mask page masks that word).
#include <QWidget>
#include <vector>

#include "text/tokenizer.h"

namespace bertscope::gui {

class TokenStrip : public QWidget {
  Q_OBJECT
 public:
  explicit TokenStrip(QWidget* parent = nullptr);

  // `continues`: per token, whether it continues the word before it (Tokenizer::continues_word).
  void setEncoding(const Encoding& encoding, const std::vector<bool>& continues = {});
  const Encoding& encoding() const { return encoding_; }
  void setShowIds(bool show);
  void setShowTypes(bool show) { showTypes_ = show; }  // the tooltip names token type ids (models that have them)
  void setHighlighted(int token);  // -1: none
  // A heat strip (saliency): chip i coloured by heat[i] in [-1, 1] instead of by word, red for positive, blue for
  // negative, white for 0; notes[i] joins chip i's tooltip. Empty: the usual colours. A new encoding clears both.
  void setHeat(const std::vector<float>& heat, const std::vector<QString>& notes = {});
  const std::vector<float>& heat() const { return heat_; }
  void setClickable(bool clickable) { clickable_ = clickable; }
  int tokenAt(QPoint point) const;  // -1: none
  QRect chipRect(int token) const { return token >= 0 && token < int(chips_.size()) ? chips_[size_t(token)] : QRect(); }

  int rowPitch() const;  // from one row of chips to the next, in pixels
  bool hasHeightForWidth() const override { return true; }
  int heightForWidth(int width) const override;
  QSize sizeHint() const override;

 signals:
  void tokenHovered(int token);  // -1 when the mouse leaves the chips
  void tokenClicked(int token);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  int layoutChips(int width, std::vector<QRect>* out) const;  // returns the height needed
  QString label(const Token& token) const;

  bool continues(size_t token) const { return token < continues_.size() && continues_[token]; }

  Encoding encoding_;
  std::vector<bool> continues_;
  std::vector<QRect> chips_;
  std::vector<float> heat_;     // per token, or empty
  std::vector<QString> notes_;  // per token, or empty
  bool showIds_ = true;
  bool showTypes_ = true;
  bool clickable_ = false;
  int highlighted_ = -1;
  int hovered_ = -1;
};

}  // namespace bertscope::gui
