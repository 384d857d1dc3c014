#pragma once
// The pieces of the Entities view: a colour per entity type, the text with its entities highlighted (also the
// fine-tune view's "try a sentence", before and after), the per-token label probabilities as a heat map (a table
// model, rows = tokens, columns = labels, and the delegate that paints its cells), and the chip that shows an
// entity's type in its colour.
#include <QAbstractTableModel>
#include <QColor>
#include <QHash>
#include <QStyledItemDelegate>
#include <set>
#include <utility>
#include <vector>

#include "engine_client.h"

class QTextEdit;

namespace bertscope::gui {

// "B-PER" and "I-PER" are both of type "PER"; a label without a B-/I- prefix is its own type.
QString entity_type(const QString& label);

// One light background colour per entity type, in the order the model's labels name them, so PER keeps its colour
// whatever the text.
class EntityPalette {
 public:
  void reset(const QStringList& labels);  // the types of these labels, "O" left out
  QColor color(const QString& typeOrLabel) const;
  const QStringList& types() const { return types_; }

 private:
  QStringList types_;
  QHash<QString, QColor> colors_;
};

// Every text token's label probabilities: column 0 the token, then one column per label. Rows can be highlighted
// (the tokens of the entity under the mouse).
// A stretch of text to highlight: UTF-16 offsets [from, to), its label (coloured by its type), a tool tip, and an
// optional link (hovering it reports the link through QTextBrowser::highlighted).
struct HighlightSpan {
  int from = 0, to = 0;
  QString label;
  QString toolTip;
  QString href;
};

struct HighlightedText {
  std::vector<std::pair<int, int>> spans;  // per span: its text's range in the document, (-1, -1) if left out
  std::vector<std::pair<int, int>> tags;   // each label written after a span: (UTF-16 position in the text, length)
};

// Writes `text` into `view` with the spans (in order) on their type's colour and the label after each, small and
// bold (displaCy's look). A span that overlaps the one before is left out.
HighlightedText show_highlighted(QTextEdit* view, const QString& text, const std::vector<HighlightSpan>& spans,
                                 const EntityPalette& palette);

class TokenLabelModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  using QAbstractTableModel::QAbstractTableModel;
  void setReply(Ptr<EntitiesReply> reply);  // null: empty
  void setHighlighted(const std::vector<int>& tokens);
  bool isHighlighted(int token) const { return highlighted_.count(token) > 0; }
  const Ptr<EntitiesReply>& reply() const { return reply_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  // Label columns: DisplayRole a short percentage, EditRole the probability.
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  Ptr<EntitiesReply> reply_;
  std::set<int> highlighted_;
};

// A heat-map cell: white to blue with the probability, its percentage on top when the cell is wide enough, and an
// orange frame around highlighted rows.
class HeatCellDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

// An entity's type as a chip in the type's colour (the Type column of the entities table).
class EntityTypeDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  EntityTypeDelegate(const EntityPalette* palette, QObject* parent) : QStyledItemDelegate(parent), palette_(palette) {}
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;

 private:
  const EntityPalette* palette_;
};

}  // namespace bertscope::gui
