#pragma once
// Compare mode (EngineClient::compareWith, File > Compare with another model…): what every task view shows next to
// model A's results while a second model (model B) is open. With one vocabulary the two line up: per shown row, B's
// probability for the same word, label, answer span or entity, and its change from A's; a changed top-1 is flagged.
// With different vocabularies the tokens do not line up: B's answer is shown on its own, with a notice.
// The columns come after the ablation's "vs all heads" column (head_ablation.h), so both can show at once.
#include <QFontMetrics>
#include <QLabel>
#include <QStringList>
#include <QVariant>
#include <QVector>

#include "engine_client.h"

class QTableView;

namespace bertscope::gui {

class ResultTableModel;

// A model's short name, for titles and column headers: "bertscope-default" for the built-in model, as its model
// card names it (its folder is only "default-model"), else its folder's last part ("bert-base-uncased").
QString model_name(const LoadedModel& model);

// The headers of model B's two columns: its probability, and its change from model A's.
QString model_b_column_title();
QString model_b_change_title();

// Model B's columns for one results table: a value (B's probability, or a text saying B has none) and a change
// (B minus A, in percentage points, "top-1 changed" on the row of A's top result when B's differs) per row, in the
// table's order, and what changed at the top ("A “cat”, B “dog”").
struct ModelBColumns {
  QVector<QVariant> values;
  QStringList changes;
  QString topChange;
};
ModelBColumns compare_fill_mask_b(const FillMaskReply& a, const ModelBAnswer& b);  // b aligned
ModelBColumns compare_labels_b(const ClassifyResult& a, const ClassifyResult& b);  // by label name
ModelBColumns compare_next_sentence_b(const NspResult& a, const NspResult& b);     // rows: IsNext, NotNext
ModelBColumns compare_answers_b(const QaResult& a, const QaResult& b);             // by answer span
ModelBColumns compare_entities_b(const EntityResult& a, const EntityResult& b);    // by span and label

// Appends model B's two columns to `headers` and `rows` (call it last, after the ablation's column), and makes B's
// a probability column of `table`; leaves them as they are when `columns` is null.
void add_model_b_columns(QStringList& headers, QVector<QVector<QVariant>>& rows, const ModelBColumns* columns,
                         ResultTableModel* table);

// Compare mode's layout of a results table whose model B columns start at `firstB` (comparing false: the table as
// it is without them). While comparing, long texts are cut with "…" rather than wrapped (the tooltip has them
// whole), B's value column is as wide as its entries, its change column at most 200 px, and the table's side of the
// splitter it is in gets 60 % of the width, so that B's columns show in a 1280-px window without scrolling.
void fit_model_b_columns(QTableView* table, int firstB, bool comparing);

// `text` with the characters [from, to) kept whole and the text around them cut with "…" so that it fits `width`
// pixels (the kept part measured with `marked`, the rest with `plain`); from and to are moved to match.
struct ElidedAround {
  QString text;
  int from = 0, to = 0;
};
ElidedAround elide_around(const QString& text, int from, int to, const QFontMetrics& plain, const QFontMetrics& marked,
                          int width);

// Model B's own answer to `job` in words, for when it cannot be lined up with A's ("mask 1: “cat” 31.2 %, …").
QString model_b_summary(Job job, const ModelBAnswer& b);

// The banner over a task view while comparing: both models' names, what changed at the top, model B's answer on
// its own when the vocabularies differ (with the notice saying why), and a link that stops comparing. Hidden while
// not comparing.
class CompareBanner : public QLabel {
  Q_OBJECT
 public:
  CompareBanner(EngineClient* engine, Job job, QWidget* parent = nullptr);
  // After a reply: model B's answer to it (null: none yet) and what changed at the top (empty: nothing).
  void showReply(const ModelBAnswer* b, const QStringList& topChanges = {});
  bool unaligned() const { return unaligned_; }  // the last reply's B answer could not be lined up

 private:
  EngineClient* engine_;
  Job job_;
  bool unaligned_ = false;
};

}  // namespace bertscope::gui
