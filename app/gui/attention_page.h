#pragma once
// Attention page: for the current text, every layer x head as small maps (model view); the selected map large
// with token labels, and as a head view; mean over heads; the added special tokens ([CLS]/[SEP], <s>/</s>) hidden on request; export as PNG and CSV.
#include <QWidget>

#include "attention_views.h"
#include "engine_client.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTimer;

namespace bertscope::gui {

class MessageLine;

class AttentionPage : public QWidget {
  Q_OBJECT
 public:
  AttentionPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);
  void setText(const QString& text, const QString& pair = {});
  void refresh();
  void select(int layer, int head);  // head -1: mean over heads

  bool exportPng(const QString& path);  // the selected map with labels
  bool exportCsv(const QString& path);  // its numbers
  const AttentionData& data() const { return data_; }
  MessageLine* message() const { return message_; }

 private:
  void rebuild();  // after a new result or a change of what is shown
  void hoverToken(int token);

  EngineClient* engine_;
  QLineEdit* text_;
  QLineEdit* pair_;
  QCheckBox* hideSpecial_;
  QCheckBox* meanHeads_;
  QSpinBox* cellSize_;
  QLabel* caption_;
  MessageLine* message_;
  AttentionGrid* grid_;
  AttentionHeatmap* heatmap_;
  AttentionHeadView* headView_;
  QTimer* debounce_;
  quint64 latest_ = 0;
  bool usable_ = false;
  std::shared_ptr<const AttentionResult> result_;
  AttentionData data_;
  int layer_ = 0, head_ = 0;
};

}  // namespace bertscope::gui
