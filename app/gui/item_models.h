#pragma once
// Table models behind the views: the tokens of an encoding, and generic result tables (fill-mask predictions,
// label probabilities, QA spans) whose probability column is drawn as a bar by ProbabilityDelegate.
#include <QAbstractTableModel>
#include <QStyledItemDelegate>
#include <QVariant>
#include <QVector>

#include "engine_client.h"
#include "text/tokenizer.h"

namespace bertscope::gui {

// One row per WordPiece token: position, token, id, type id, span in the text, the text it covers, word, notes.
class TokenTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Index, TokenText, Id, TypeId, Span, Source, Word, Notes, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;

  // `first` and `second` are the texts the encoding came from (offsets point into them).
  void setEncoding(const ShownEncoding& shown, const QString& first, const QString& second);
  const Encoding& encoding() const { return shown_.encoding; }
  bool continuesWord(int row) const { return row >= 0 && row < int(shown_.continues.size()) && shown_.continues[size_t(row)]; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  QString sourceText(const Token& token) const;
  ShownEncoding shown_;
  QString first_, second_;
};

// A read-only table of rows of values. Some columns (or none) hold probabilities in [0, 1]; each row may carry a
// payload (Qt::UserRole on every column) for the view to act on when the row is clicked.
class ResultTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  ResultTableModel(QStringList headers, int probabilityColumn, QObject* parent = nullptr);
  ResultTableModel(QStringList headers, QList<int> probabilityColumns, QObject* parent = nullptr);

  void setRows(QVector<QVector<QVariant>> rows, QVector<QVariant> payloads = {});
  void setHeaders(QStringList headers);  // also clears the rows
  // The columns shown as probabilities (a value in [0, 1] drawn as a percentage), e.g. when a column is added.
  void setProbabilityColumns(QList<int> columns) { probabilityColumns_ = std::move(columns); }
  const QList<int>& probabilityColumns() const { return probabilityColumns_; }
  void clear() { setRows({}); }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  QStringList headers_;
  QList<int> probabilityColumns_;
  QVector<QVector<QVariant>> rows_;
  QVector<QVariant> payloads_;
};

// Draws a probability (a double in [0, 1]) as a horizontal bar with its percentage.
class ProbabilityDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

QString percent(double probability);  // "42.1 %", "< 0.1 %"

}  // namespace bertscope::gui
