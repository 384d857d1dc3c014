#pragma once
// The fine-tune view's validation tables, one per task: the confusion matrix (sentence classification), precision,
// recall and F1 per entity type or tag (token classification), and SQuAD's scores (question answering).
#include <map>
#include <string>
#include <vector>

#include "train/seqeval.h"
#include "train/squad_metrics.h"

class QTableWidget;

namespace bertscope::gui {

// Rows: true label, columns: predicted label; the diagonal shaded.
void show_confusion(QTableWidget* table, const std::vector<std::string>& labels, const std::vector<std::vector<int>>& confusion);
// A row per type or tag: precision, recall, F1, support.
void show_tag_scores(QTableWidget* table, const std::map<std::string, EntityScores>& scores);
// A row per score, in percent, as the official script names them (v2.0: HasAns/NoAns and the best thresholds too).
void show_squad_scores(QTableWidget* table, const SquadScores& scores);

}  // namespace bertscope::gui
