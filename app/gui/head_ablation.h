#pragma once
// What every task view shows while attention heads are switched off (EngineClient::setHeadMask, from the Attention
// view): a banner saying how many, and per result its change against the full model (every head on), with a
// changed top-1 flagged.
#include <QLabel>
#include <QStringList>
#include <QVariant>
#include <QVector>

#include "engine_client.h"

namespace bertscope::gui {

// The change of a probability from the full model to the model with heads off, in percentage points: "+3.2 pts".
QString probability_change(double withHeadsOff, double full);

// One results table's comparison: a text per row (in the table's order) and, when the top result differs from the
// full model's, what it was ("cat → dog").
struct Comparison {
  QStringList rows;
  QString topChange;
};
Comparison compare_fill_mask(const FillMaskReply& reply, const FullModelAnswer& full);
Comparison compare_labels(const ClassifyResult& now, const ClassifyResult& full);
Comparison compare_next_sentence(const NspResult& now, const NspResult& full);  // rows: IsNext, NotNext
Comparison compare_answers(const QaResult& now, const QaResult& full);
Comparison compare_entities(const EntityResult& now, const EntityResult& full);

// The header of the comparison column.
QString change_column_title();
// Appends the comparison column to `headers` and `rows` when there is a comparison (heads off), else leaves them.
void add_change_column(QStringList& headers, QVector<QVector<QVariant>>& rows, const Comparison* comparison);

// "N heads switched off" over a task view's results while any are: what the results compare with, what changed at
// the top, and a link that switches every head back on. Hidden while every head is on.
class AblationBanner : public QLabel {
  Q_OBJECT
 public:
  AblationBanner(EngineClient* engine, QWidget* parent = nullptr);
  // After a reply: how it ran (null: every head on) and what changed at the top (empty: nothing).
  void showReply(const Ablation* ablation, const QStringList& topChanges = {});

 private:
  void showCount(int headsOff, const QStringList& topChanges);
  EngineClient* engine_;
};

}  // namespace bertscope::gui
