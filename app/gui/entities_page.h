#pragma once
// Named entities (token-classification models): the text with each entity's span on its type's colour (a legend
// names the colours), a table of the entities (type, text, score, span), and every token's label probabilities as
// a heat map (tokens x labels). Hovering an entity, in the text or the table, outlines its tokens in the heat map.
// The aggregation strategy (Hugging Face's none / simple / first / average / max) is a choice; the view updates
// as you type. Long texts are read in overlapping windows.
#include <vector>

#include "entity_views.h"
#include "task_page.h"

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QTableView;
class QTextBrowser;

namespace bertscope::gui {

class AblationBanner;
class CompareBanner;
class ResultTableModel;

class EntitiesPage : public TaskPage {
  Q_OBJECT
 public:
  // The strategy the view starts with. transformers' pipeline defaults to "none" (one row per token); "simple"
  // groups B-/I- tokens into whole entities, which is what a reader wants to see.
  static constexpr Aggregation kDefaultAggregation = Aggregation::Simple;

  EntitiesPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);  // enables the page, or says why this model cannot find entities
  void setText(const QString& text);
  QString text() const;
  void setAggregation(Aggregation aggregation);  // and asks again
  Aggregation aggregation() const;
  void refresh() override;
  void showEntity(int entity);  // outlines entity `entity` (a row of entities()) in the text and the heat map; -1: none
  // The saliency strip explains entity `entity`'s first token's label, or token `token` (a row of tokenLabels())
  // with label id `label` (-1: its most likely).
  void explainEntity(int entity);
  void explainToken(int token, int label = -1);

  // For tests and screenshots.
  enum Column { Type, Text, Score, Start, End };  // entities(): Start and End are code-point offsets, as HF's
  ResultTableModel* entities() const { return entities_; }
  TokenLabelModel* tokenLabels() const { return labels_; }
  QTextBrowser* highlightedText() const { return view_; }
  QComboBox* aggregationChoice() const { return aggregation_; }
  QString legendText() const;
  QString summary() const;
  int shownEntity() const { return hovered_; }
  const Ptr<EntitiesReply>& shown() const { return shown_; }
  const EntityPalette& palette() const { return palette_; }
  // The highlighted view's document range of entity `entity`'s text, [from, to).
  std::pair<int, int> entityDocumentRange(int entity) const;
  AblationBanner* ablationBanner() const { return ablationBanner_; }  // "N heads switched off", while any are
  CompareBanner* compareBanner() const { return compareBanner_; }     // both models' names, while comparing

 private:
  void showResult();
  void showFailure(const QString& error) override;
  void clearResults();
  void renderText();      // the shown text with entity spans and type tags, into view_
  void updateLegend();
  void showToken(int token);  // a token outside any entity: its characters in the text
  int documentPosition(int utf16, bool end) const;  // a text position in view_'s document (past the tags)

  QPlainTextEdit* text_;
  QComboBox* aggregation_;
  QLabel* aggregationLabel_;  // greyed with the box
  QLabel* legend_;
  QLabel* summary_;
  QTextBrowser* view_;
  QTableView* table_;
  ResultTableModel* entities_;
  QTableView* heat_;
  TokenLabelModel* labels_;
  QWidget* results_;
  EntityPalette palette_;
  bool usable_ = false;
  QString requestedText_, shownText_;  // shownText_: what the shown reply's offsets point into
  Ptr<EntitiesReply> shown_;
  std::vector<std::pair<int, int>> tags_;   // each type tag in view_: (UTF-16 position in the text, its length)
  std::vector<std::pair<int, int>> spans_;  // per entity: its text's range in view_'s document
  int hovered_ = -1;
  AblationBanner* ablationBanner_;
  CompareBanner* compareBanner_;
};

}  // namespace bertscope::gui
