#pragma once
// Attention page: for the current text, every layer x head as small maps (model view); the selected map large
// with token labels, or every head of its layer as bertviz's head view; mean over heads; a colour scale on every
// map; the added special tokens ([CLS]/[SEP], <s>/</s>) hidden on request; export of the map shown as PNG and CSV,
// and of every layer and head as JSON or .npy. Heads can be switched off (for every view: EngineClient::setHeadMask)
// by clicking them, and ranked by how much the input's output needs each (with progress, and a Cancel that stops
// within one batched pass). Rollout and flow (Abnar & Zuidema) are other sources for the maps and the head view.
// While comparing, model B's map (or A − B), head ranking and neuron view show beside or below model A's.
#include <QWidget>

#include "attention_views.h"
#include "engine_client.h"

class QCheckBox;
class QComboBox;
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
class CompareBanner;
class HeadRankingGrid;
class HeadViewPanel;
class NeuronView;
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

  // Switching heads off, ranking them, and the maps' source.
  enum class Source { Weights, Rollout, Flow };
  void setSource(Source source);
  Source source() const { return source_; }
  AttentionGrid* grid() const { return grid_; }
  // Compare mode (model_compare.h): model B's map for the same layer and head next to model A's, with its own
  // tokens (lined up with A's when the two read the same tokens; the banner says when they do not).
  CompareBanner* compareBanner() const { return compareBanner_; }
  AttentionHeatmap* heatmapB() const { return heatmapB_; }
  const AttentionData& dataB() const { return dataB_; }
  QLabel* captionB() const { return captionB_; }
  // "difference (A − B)": model B's place shows A's map minus B's, with a diverging legend, when the two have the
  // same layers, heads and tokens (disabled otherwise, its tooltip saying why).
  QCheckBox* differenceOption() const { return differenceB_; }
  AttentionLegend* differenceLegend() const { return legendB_; }
  QCheckBox* switchOffMode() const { return switchOff_; }  // checked: a click on a head switches it off or on
  QPushButton* restoreHeads() const { return restore_; }
  QLabel* headsOffLabel() const { return headsOff_; }
  QPushButton* rankButton() const { return rank_; }
  QComboBox* rankTask() const { return rankTask_; }
  HeadRankingGrid* rankingGrid() const { return ranking_; }
  HeadRankingGrid* rankingGridB() const { return rankingB_; }  // model B's, beside A's while comparing
  QLabel* rankingCaptionB() const { return rankingCaptionB_; }
  NeuronView* neuronView() const { return neuronView_; }
  void showNeuronView();  // its tab
  void rankHeads();  // for the current text and the chosen task's top output
  void cancelRanking();  // the ranking in progress stops within one batched pass; the view stays as it was
  QToolButton* cancelRankButton() const { return cancelRank_; }
  QProgressBar* rankProgress() const { return rankProgress_; }

 private:
  void rebuild();  // after a new result or a change of what is shown
  void hoverToken(int token);
  void chooseExportFile();
  void showHeadMask();  // after the engine's head mask changed
  void requestSource();  // rollout or flow of the current result, or the weights themselves
  void finishRanking();
  void showRankingB(const ModelBAnswer* b);  // null: hidden

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
  std::shared_ptr<const AttentionResult> result_;   // the attention weights
  std::shared_ptr<const AttentionResult> derived_;  // their rollout or flow, when that is the source
  Source source_ = Source::Weights;
  quint64 sourceRequest_ = 0, rankRequest_ = 0;
  QComboBox* sourceBox_;
  QCheckBox* switchOff_;
  QPushButton* restore_;
  QLabel* headsOff_;
  QComboBox* rankTask_;
  QPushButton* rank_;
  QProgressBar* rankProgress_;
  QToolButton* cancelRank_;
  HeadRankingGrid* ranking_;
  QLabel* rankingCaption_;
  HeadRankingGrid* rankingB_;
  QWidget* rankingBoxB_;
  QLabel* rankingCaptionB_;
  NeuronView* neuronView_;
  AttentionData data_;
  int layer_ = 0, head_ = 0;
  CompareBanner* compareBanner_;
  AttentionHeatmap* heatmapB_;
  QWidget* boxB_;                              // model B's caption and map, shown while comparing
  QLabel* captionB_;
  std::shared_ptr<const AttentionResult> resultB_;  // model B's weights for the shown text
  AttentionData dataB_;
  void selectB();  // model B's map (or A − B) for layer_ and head_, or why there is none
  QString differenceProblem() const;  // why A − B cannot be shown; empty when it can
  QCheckBox* differenceB_;
  AttentionLegend* legendB_;
};

}  // namespace bertscope::gui
