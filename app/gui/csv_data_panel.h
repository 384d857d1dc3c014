#pragma once
// The fine-tune view's data for sentence classification: a CSV or TSV file of labelled sentences (delimiter and
// header detected or chosen, bad rows skipped and listed with their lines, or reading stopped at the first), a
// preview, the text and label columns (guessed: the longest values, and another column with the fewest distinct
// ones), and a row per label whose names, editable, become config.json's id2label.
#include <QWidget>
#include <optional>

#include "data/csv.h"
#include "data/dataset.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;
class QTableWidget;

namespace bertscope::gui {

class ResultTableModel;

class CsvDataPanel : public QWidget {
  Q_OBJECT
 public:
  explicit CsvDataPanel(QWidget* parent = nullptr);
  bool load(const QString& path);  // false (and failed()) when it cannot be read
  void setColumns(const QString& text, const QString& label);
  QString path() const;
  const LabelledData* data() const { return data_ ? &*data_ : nullptr; }  // null until the columns give examples
  const CsvTable* table() const { return table_ ? &*table_ : nullptr; }  // as read: its delimiter, header, columns
  int textColumn() const;   // 0-based, into table()->columns; -1: none chosen
  int labelColumn() const;
  QString summary() const;  // rows, delimiter, header; the labels and their counts
  ResultTableModel* preview() const { return preview_; }
  QPlainTextEdit* skippedRows() const { return skipped_; }  // hidden when no row was skipped
  // A row per label of the file (value, sentences, name). False when `label` is out of range.
  QTableWidget* labelNames() const { return labelNames_; }
  bool setLabelName(int label, const QString& name);
  QStringList labelNamesChosen(QString* error) const;  // the names column, checked: none empty, no two alike
  // Why this data may not train a useful classifier (tiny data, a label with one example, ...), for `split` held
  // out with `validationShare`.
  QStringList warnings(const Split& split, double validationShare) const;
  void setEditable(bool editable);  // off while a run trains on this data

 signals:
  void failed(const QString& error);
  void read();  // the file and its columns read without error (an earlier error no longer applies)

 private:
  void reload();
  void readColumns();   // labelled examples from the chosen columns
  void showLabelNames();  // a row per label of data_, keeping names already given
  void showSkipped();   // the table's and the columns' skipped rows, with their lines and reasons

  QLineEdit* path_;
  QPushButton* choose_;
  QComboBox* delimiter_;
  QComboBox* header_;
  QCheckBox* stopOnBad_;
  QLabel* summary_;
  ResultTableModel* preview_;
  QTableView* previewTable_;
  QComboBox* textColumn_;
  QComboBox* labelColumn_;
  QLabel* labels_;
  QTableWidget* labelNames_;
  QPlainTextEdit* skipped_;
  std::optional<CsvTable> table_;
  std::optional<LabelledData> data_;
};

}  // namespace bertscope::gui
