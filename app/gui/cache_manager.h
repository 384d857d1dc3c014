#pragma once
// The Hugging Face cache as a table: every cached model with its size, revisions and whether its snapshot is
// complete; Open loads the selected one in the window, Delete removes it from the cache (after asking).
#include <QDialog>
#include <QString>

class QLabel;
class QPushButton;
class QTableWidget;

namespace bertscope::gui {

class CacheManager : public QDialog {
  Q_OBJECT
 public:
  explicit CacheManager(QWidget* parent = nullptr);

  void refresh();
  // Removes `id` from the cache, asking first when `ask`; false when the user said no or it failed (said in the
  // dialog).
  bool removeModel(const QString& id, bool ask = true);
  QString selectedId() const;

  QTableWidget* table() const { return table_; }
  QLabel* statusLabel() const { return status_; }

 signals:
  void openRequested(const QString& argument);

 private:
  QTableWidget* table_;
  QLabel* status_;
  QPushButton* open_;
  QPushButton* delete_;
};

}  // namespace bertscope::gui
