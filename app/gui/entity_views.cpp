#include "entity_views.h"

#include <QApplication>
#include <QPainter>
#include <QTextCursor>
#include <QTextEdit>
#include <algorithm>
#include <cmath>

#include "item_models.h"

namespace bertscope::gui {

QString entity_type(const QString& label) {
  if (label.startsWith(QLatin1String("B-")) || label.startsWith(QLatin1String("I-"))) return label.mid(2);
  return label;
}

// ---- Highlighted text ----

HighlightedText show_highlighted(QTextEdit* view, const QString& text, const std::vector<HighlightSpan>& spans,
                                 const EntityPalette& palette) {
  HighlightedText out;
  out.spans.assign(spans.size(), {-1, -1});
  view->clear();
  view->document()->setUndoRedoEnabled(false);
  QTextCursor cursor(view->document());
  cursor.beginEditBlock();  // one layout for the whole text, not one per insertion (5,000 words: seconds)
  const QTextCharFormat plain;
  int at = 0;  // how much of the text (UTF-16) is in the document
  for (size_t i = 0; i < spans.size(); ++i) {
    const HighlightSpan& s = spans[i];
    if (s.from < at || s.to <= s.from || s.to > text.size()) continue;  // overlaps the one before (never expected)
    cursor.insertText(text.mid(at, s.from - at), plain);
    QTextCharFormat span;
    span.setBackground(palette.color(s.label));
    if (!s.href.isEmpty()) {
      span.setAnchor(true);
      span.setAnchorHref(s.href);
    }
    span.setToolTip(s.toolTip);
    const int start = cursor.position();
    cursor.insertText(text.mid(s.from, s.to - s.from), span);
    out.spans[i] = {start, cursor.position()};
    QTextCharFormat tag = span;
    tag.setFontWeight(QFont::Bold);
    tag.setFontPointSize(std::max(6.0, view->font().pointSizeF() * 0.75));
    tag.setForeground(QColor(60, 60, 60));
    const QString label = QStringLiteral(" ") + s.label;
    cursor.insertText(label, tag);
    out.tags.emplace_back(s.to, int(label.size()));
    at = s.to;
  }
  cursor.insertText(text.mid(at), plain);
  cursor.endEditBlock();
  view->moveCursor(QTextCursor::Start);
  return out;
}

// ---- EntityPalette ----

namespace {
// Light colours that keep black text readable; more types than these go round the hue circle.
const QColor kColors[] = {QColor(0xa6, 0xd8, 0xff), QColor(0xff, 0xd5, 0x9e), QColor(0xc4, 0xee, 0xa8),
                          QColor(0xf5, 0xc2, 0xe7), QColor(0xdc, 0xcf, 0xff), QColor(0xff, 0xf0, 0x96),
                          QColor(0xae, 0xee, 0xe2), QColor(0xff, 0xbf, 0xbf)};
constexpr int kColorCount = int(sizeof(kColors) / sizeof(kColors[0]));

QColor nth_color(int n) {
  if (n < kColorCount) return kColors[n];
  return QColor::fromHsv((n * 47) % 360, 70, 255);
}

// The usual entity types keep one colour whatever order a model lists its labels in, so that PER is the same blue in
// every model and view (CoNLL-2003's four, and OntoNotes' names for the same kinds).
int fixed_slot(const QString& type) {
  static const QHash<QString, int> slot_of_type{{"PER", 0}, {"PERSON", 0}, {"ORG", 1}, {"ORGANIZATION", 1},
                                         {"LOC", 2}, {"LOCATION", 2}, {"GPE", 2}, {"MISC", 3}};
  return slot_of_type.value(type.toUpper(), -1);
}
}  // namespace

void EntityPalette::reset(const QStringList& labels) {
  types_.clear();
  colors_.clear();
  for (const QString& label : labels) {  // the legend's order: the labels'
    const QString type = entity_type(label);
    if (label != QLatin1String("O") && !types_.contains(type)) types_ << type;
  }
  QSet<int> taken;
  for (const QString& type : types_)  // the usual types in their own colours
    if (const int slot = fixed_slot(type); slot >= 0) colors_.insert(type, nth_color(slot)), taken.insert(slot);
  int next = 0;
  for (const QString& type : types_) {  // the others in the colours left, in label order
    if (colors_.contains(type)) continue;
    while (taken.contains(next)) ++next;
    colors_.insert(type, nth_color(next));
    taken.insert(next);
  }
}

QColor EntityPalette::color(const QString& typeOrLabel) const {
  const QString type = entity_type(typeOrLabel);
  if (auto it = colors_.find(type); it != colors_.end()) return *it;
  return nth_color(int(qHash(type) % 97));  // a label the model did not list (should not happen): still stable
}

// ---- TokenLabelModel ----

void TokenLabelModel::setReply(Ptr<EntitiesReply> reply) {
  beginResetModel();
  reply_ = std::move(reply);
  highlighted_.clear();
  endResetModel();
}

void TokenLabelModel::setHighlighted(const std::vector<int>& tokens) {
  std::set<int> next(tokens.begin(), tokens.end());
  if (next == highlighted_) return;
  std::set<int> changed = highlighted_;
  changed.insert(next.begin(), next.end());
  highlighted_ = std::move(next);
  for (int row : changed)
    if (row >= 0 && row < rowCount()) emit dataChanged(index(row, 0), index(row, columnCount() - 1));
}

int TokenLabelModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !reply_ ? 0 : int(reply_->result.tokens.size());
}

int TokenLabelModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || !reply_ ? 0 : 1 + int(reply_->labels.size());
}

QVariant TokenLabelModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !reply_) return {};
  const TokenLabel& token = reply_->result.tokens[size_t(index.row())];
  const QString text = reply_->tokens[size_t(index.row())];
  if (index.column() == 0) {
    if (role == Qt::DisplayRole) return text;
    if (role == Qt::ToolTipRole)
      return tr("token %1: %2 · characters %3–%4 · most likely %5 (%6)")
          .arg(token.index).arg(text).arg(token.start).arg(token.end)
          .arg(QString::fromStdString(token.entity), percent(token.score));
    if (role == Qt::BackgroundRole && isHighlighted(index.row())) return QColor(255, 220, 120);
    return {};
  }
  const size_t label = size_t(index.column() - 1);
  if (label >= token.probabilities.size()) return {};
  const double p = token.probabilities[label];
  if (role == Qt::EditRole) return p;
  if (role == Qt::DisplayRole) return p >= 0.995 ? QStringLiteral("1") : QString::number(std::lround(p * 100));
  if (role == Qt::ToolTipRole)
    return tr("%1 as %2: %3").arg(text, reply_->labels[qsizetype(label)], percent(p));
  return {};
}

QVariant TokenLabelModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole || !reply_) return {};
  if (orientation == Qt::Vertical) return section + 1;
  return section == 0 ? tr("Token") : reply_->labels.value(section - 1);
}

// ---- HeatCellDelegate ----

void HeatCellDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  const auto* model = qobject_cast<const TokenLabelModel*>(index.model());
  const double p = std::clamp(index.data(Qt::EditRole).toDouble(), 0.0, 1.0);
  painter->save();
  painter->setClipRect(option.rect);  // nothing outside its cell
  // White (0) to a strong blue (1).
  const QColor cold(255, 255, 255), hot(33, 102, 172);
  auto mix = [p](int a, int b) { return int(std::lround(a + (b - a) * p)); };
  const QColor fill(mix(cold.red(), hot.red()), mix(cold.green(), hot.green()), mix(cold.blue(), hot.blue()));
  painter->fillRect(option.rect, fill);
  if (option.rect.width() >= 26) {
    QFont font = option.font;
    font.setPointSizeF(font.pointSizeF() * 0.85);
    painter->setFont(font);
    painter->setPen(p > 0.5 ? Qt::white : QColor(90, 90, 90));
    painter->drawText(option.rect, Qt::AlignCenter, index.data(Qt::DisplayRole).toString());
  }
  if (model && model->isHighlighted(index.row())) {
    painter->setPen(QPen(QColor(230, 120, 0), 2));
    const QRect r = option.rect.adjusted(0, 1, 0, -1);
    painter->drawLine(r.topLeft(), r.topRight());
    painter->drawLine(r.bottomLeft(), r.bottomRight());
    if (index.column() == model->columnCount() - 1) painter->drawLine(r.topRight(), r.bottomRight());
  }
  painter->restore();
}

// ---- EntityTypeDelegate ----

void EntityTypeDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QStyleOptionViewItem background = option;
  initStyleOption(&background, index);
  const QString label = background.text;
  background.text.clear();
  QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &background, painter);
  painter->save();
  painter->setClipRect(option.rect);
  painter->setRenderHint(QPainter::Antialiasing);
  QFont font = option.font;
  font.setBold(true);
  painter->setFont(font);
  const int width = QFontMetrics(font).horizontalAdvance(label) + 12;
  const QRect chip(option.rect.left() + 4, option.rect.top() + 3, std::min(width, option.rect.width() - 8), option.rect.height() - 6);
  painter->setPen(Qt::NoPen);
  painter->setBrush(palette_->color(label));
  painter->drawRoundedRect(chip, 4, 4);
  painter->setPen(Qt::black);
  painter->drawText(chip, Qt::AlignCenter, label);
  painter->restore();
}

}  // namespace bertscope::gui
