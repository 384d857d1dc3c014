#include "fine_tune_scores.h"

#include <QCoreApplication>
#include <QHeaderView>
#include <QTableWidget>
#include <utility>

namespace bertscope::gui {

namespace {
QString tr(const char* text) { return QCoreApplication::translate("FineTuneScores", text); }

QTableWidgetItem* centred(const QString& text) {
  auto* item = new QTableWidgetItem(text);
  item->setTextAlignment(Qt::AlignCenter);
  return item;
}
}  // namespace

void show_confusion(QTableWidget* table, const std::vector<std::string>& labels, const std::vector<std::vector<int>>& confusion) {
  const int n = int(labels.size());
  table->setRowCount(n);
  table->setColumnCount(n);
  QStringList actual, predicted;  // the headers name the axes: rows are the true labels, columns the predictions
  for (const auto& l : labels) {
    actual << tr("actual: %1").arg(QString::fromStdString(l));
    predicted << tr("predicted: %1").arg(QString::fromStdString(l));
  }
  table->setHorizontalHeaderLabels(predicted);
  table->setVerticalHeaderLabels(actual);
  for (int t = 0; t < n; ++t)
    for (int p = 0; p < n; ++p) {
      auto* item = centred(QString::number(confusion[size_t(t)][size_t(p)]));
      if (t == p) item->setBackground(QColor(213, 245, 227));
      table->setItem(t, p, item);
    }
  table->resizeColumnsToContents();  // the headers ("predicted: positive") are wider than the counts
}

void show_tag_scores(QTableWidget* table, const std::map<std::string, EntityScores>& per) {
  table->clear();
  table->setColumnCount(4);
  table->setRowCount(int(per.size()));
  table->setHorizontalHeaderLabels({tr("Precision"), tr("Recall"), tr("F1"), tr("Support")});
  QStringList names;
  int row = 0;
  for (const auto& [name, scores] : per) {
    names << QString::fromStdString(name);
    const double values[] = {scores.precision, scores.recall, scores.f1};
    for (int c = 0; c < 3; ++c) table->setItem(row, c, centred(QString::number(values[c], 'f', 3)));
    table->setItem(row++, 3, centred(QString::number(scores.support)));
  }
  table->setVerticalHeaderLabels(names);
}

void show_squad_scores(QTableWidget* table, const SquadScores& s) {
  std::vector<std::pair<QString, QString>> rows{
      {tr("Exact match"), QString::number(s.exact, 'f', 2)},
      {tr("F1"), QString::number(s.f1, 'f', 2)},
      {tr("Questions"), QString::number(s.total)}};
  if (s.v2) {
    rows.insert(rows.end(), {{tr("Answerable: exact match"), QString::number(s.has_ans_exact, 'f', 2)},
                             {tr("Answerable: F1"), QString::number(s.has_ans_f1, 'f', 2)},
                             {tr("Answerable questions"), QString::number(s.has_ans_total)},
                             {tr("Unanswerable: exact match"), QString::number(s.no_ans_exact, 'f', 2)},
                             {tr("Unanswerable questions"), QString::number(s.no_ans_total)},
                             {tr("Best exact match"), QString::number(s.best_exact, 'f', 2)},
                             {tr("  at no-answer threshold"), QString::number(s.best_exact_thresh, 'f', 3)},
                             {tr("Best F1"), QString::number(s.best_f1, 'f', 2)},
                             {tr("  at no-answer threshold"), QString::number(s.best_f1_thresh, 'f', 3)}});
  }
  table->clear();
  table->setColumnCount(1);
  table->setRowCount(int(rows.size()));
  table->setHorizontalHeaderLabels({s.v2 ? tr("SQuAD v2.0 (percent)") : tr("SQuAD v1.1 (percent)")});
  QStringList names;
  for (int r = 0; r < int(rows.size()); ++r) {
    names << rows[size_t(r)].first;
    table->setItem(r, 0, centred(rows[size_t(r)].second));
  }
  table->setVerticalHeaderLabels(names);
}

}  // namespace bertscope::gui
