#pragma once
// Model page: what was loaded (architecture, heads, sizes, parameters, file size, dtype), where it runs and how
// long loading took.
#include <QWidget>

#include "engine_client.h"

class QFormLayout;
class QLabel;

namespace bertscope::gui {

class ModelPage : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPage(QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);
  QString field(const QString& name) const;  // the shown value of a row, for tests

 private:
  QFormLayout* form_;
  QLabel* warning_;
  std::vector<std::pair<QString, QLabel*>> fields_;
};

QString human_bytes(std::uint64_t bytes);   // "418.2 MB"
QString human_count(std::int64_t count);    // "109.5 M"

}  // namespace bertscope::gui
