#pragma once
// Attention page: for the current text, every layer x head as small maps (model view); the selected map large
// with token labels, or every head of its layer as bertviz's head view; mean over heads; a colour scale on every
// map; the added special tokens ([CLS]/[SEP], <s>/</s>) hidden on request; export of the map shown as PNG and CSV,
// and of every layer and head as JSON or .npy.
#include <QWidget>

#include "attention_views.h"
#include "engine_client.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTimer;
class QToolButton;

namespace bertscope::gui {

class AttentionExporter;
class AttentionLegend;
class HeadViewPanel;
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
  // Starts writing every layer and head, with the tokens, to `path` (.npy: plus a .json of tokens beside it; else
  // JSON). False, saying why on the message line, when it cannot start (an existing file is refused, untouched);
  // else the exporter reports progress and finished().
  bool exportAll(const QString& path);
  AttentionExporter* exporter() const { return exporter_; }
  void showHeadView();  // the head view's tab
  HeadViewPanel* headView() const { return headView_; }
  AttentionLegend* mapLegend() const { return mapLegend_; }
  const AttentionData& data() const { return data_; }
  MessageLine* message() const { return message_; }

 private:
  void rebuild();  // after a new result or a change of what is shown
  void hoverToken(int token);
  void chooseExportFile();

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
  AttentionLegend* mapLegend_;
  HeadViewPanel* headView_;
  QTabWidget* views_;
  QPushButton* exportAll_;
  QProgressBar* exportProgress_;
  QToolButton* cancelExport_;
  AttentionExporter* exporter_;
  QTimer* debounce_;
  quint64 latest_ = 0;
  bool usable_ = false;
  std::shared_ptr<const AttentionResult> result_;
  AttentionData data_;
  int layer_ = 0, head_ = 0;
};

}  // namespace bertscope::gui
