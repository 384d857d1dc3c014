#include "item_models.h"

#include <QApplication>
#include <QColor>
#include <QFont>
#include <QPainter>
#include <cmath>

#include "text_spans.h"

namespace bertscope::gui {

QString percent(double probability) {
  if (!std::isfinite(probability)) return QStringLiteral("—");  // never "nan %": the page says what went wrong
  if (probability > 0 && probability < 0.001) return QStringLiteral("< 0.1 %");
  return QStringLiteral("%1 %").arg(probability * 100.0, 0, 'f', 1);
}

// ---- TokenTableModel ----

void TokenTableModel::setEncoding(const ShownEncoding& shown, const QString& first, const QString& second) {
  beginResetModel();
  shown_ = shown;
  first_ = first;
  second_ = second;
  endResetModel();
}

int TokenTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(shown_.encoding.tokens.size());
}

int TokenTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QString TokenTableModel::sourceText(const Token& token) const {
  if (token.sequence < 0) return {};
  const QString& text = token.sequence == 0 ? first_ : second_;
  const CodePointIndex index(text);
  const int from = index.utf16(token.start), to = index.utf16(token.end);
  return text.mid(from, to - from);
}

QVariant TokenTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Token& t = shown_.encoding.tokens[static_cast<size_t>(index.row())];
  const bool continuation = continuesWord(index.row());
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Index: return index.row();
      case TokenText: return QString::fromStdString(t.text);
      case Id: return t.id;
      case TypeId: return t.type_id;
      case Span: return t.sequence < 0 ? QString() : QStringLiteral("%1–%2").arg(t.start).arg(t.end);
      case Source: return sourceText(t);
      case Word: return t.word < 0 ? QVariant() : QVariant(t.word);
      case Notes: {
        QStringList notes;
        if (t.unknown) notes << tr("not in the vocabulary");
        if (t.special) notes << tr("special token");
        if (continuation) notes << tr("continues the word");
        return notes.join(QStringLiteral(", "));
      }
    }
  }
  if (role == Qt::ForegroundRole && t.unknown) return QColor(Qt::red);
  if (role == Qt::ForegroundRole && t.special) return QColor(Qt::darkBlue);
  if (role == Qt::TextAlignmentRole && (index.column() == Index || index.column() == Id || index.column() == TypeId))
    return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::FontRole && index.column() == TokenText) {
    QFont font = QApplication::font();
    font.setFamily(QStringLiteral("monospace"));
    return font;
  }
  return {};
}

QVariant TokenTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
  static const char* names[] = {"#", "Token", "Id", "Type", "Span", "Text", "Word", "Notes"};
  return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

// ---- ResultTableModel ----

ResultTableModel::ResultTableModel(QStringList headers, int probabilityColumn, QObject* parent)
    : ResultTableModel(std::move(headers), QList<int>{probabilityColumn}, parent) {}

ResultTableModel::ResultTableModel(QStringList headers, QList<int> probabilityColumns, QObject* parent)
    : QAbstractTableModel(parent), headers_(std::move(headers)), probabilityColumns_(std::move(probabilityColumns)) {}

void ResultTableModel::setHeaders(QStringList headers) {
  beginResetModel();
  headers_ = std::move(headers);
  rows_.clear();
  payloads_.clear();
  endResetModel();
}

void ResultTableModel::setRows(QVector<QVector<QVariant>> rows, QVector<QVariant> payloads) {
  beginResetModel();
  rows_ = std::move(rows);
  payloads_ = std::move(payloads);
  endResetModel();
}

int ResultTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(rows_.size()); }

int ResultTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(headers_.size()); }

QVariant ResultTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const auto& row = rows_[index.row()];
  const QVariant value = index.column() < row.size() ? row[index.column()] : QVariant();
  if (role == Qt::UserRole) return index.row() < payloads_.size() ? payloads_[index.row()] : QVariant();
  // A text in a probability column (a row with no probability, e.g. "no such label") shows as it is.
  if (probabilityColumns_.contains(index.column()) && value.typeId() != QMetaType::QString) {
    if (role == Qt::DisplayRole) return percent(value.toDouble());
    if (role == Qt::EditRole) return value;  // the raw probability, for the delegate and for sorting
    if (role == Qt::ToolTipRole) return QString::number(value.toDouble(), 'g', 6);
    return {};
  }
  if (role == Qt::DisplayRole || role == Qt::EditRole) return value;
  if (role == Qt::ToolTipRole && value.typeId() == QMetaType::QString) return value;
  return {};
}

QVariant ResultTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation == Qt::Horizontal && role == Qt::DisplayRole && section >= 0 && section < headers_.size())
    return headers_[section];
  return QAbstractTableModel::headerData(section, orientation, role);
}

// ---- ProbabilityDelegate ----

void ProbabilityDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  const double value = index.data(Qt::EditRole).toDouble();
  const bool finite = std::isfinite(value);  // NaN would make a bar of any width, over the next columns
  const double p = finite ? std::clamp(value, 0.0, 1.0) : 0.0;
  QStyleOptionViewItem background = option;
  initStyleOption(&background, index);
  background.text.clear();
  QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &background, painter);
  painter->save();
  painter->setClipRect(option.rect);  // whatever the value, nothing outside this cell
  // The number on the left, the bar in the rest of the cell: a bar drawn under the number would hide it.
  const QRect area = option.rect.adjusted(3, 3, -3, -3);
  const int numberWidth = option.fontMetrics.horizontalAdvance(QStringLiteral("100.0 % ")) + 4;
  const QRect number(area.left(), area.top(), std::min(numberWidth, area.width()), area.height());
  QRect bar(number.right() + 1, area.top(), 0, area.height());
  bar.setWidth(static_cast<int>(std::lround(std::max(0, area.right() - number.right()) * p)));
  if (finite && bar.width() > 0) painter->fillRect(bar, QColor(70, 130, 200, 170));
  painter->setPen(option.palette.color(QPalette::Text));
  painter->drawText(number.adjusted(4, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft, finite ? percent(p) : percent(value));
  painter->restore();
}

QSize ProbabilityDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QSize size = QStyledItemDelegate::sizeHint(option, index);
  size.setWidth(std::max(size.width(), 160));
  return size;
}

}  // namespace bertscope::gui
