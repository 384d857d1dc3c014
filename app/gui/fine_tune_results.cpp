// FineTunePage, the results side: what the charts, the scores table and the status line show as a run reports its
// epochs, for each task (the rest of the page: fine_tune_page.cpp).
#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPushButton>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <cmath>

#include "fine_tune_page.h"
#include "fine_tune_scores.h"
#include "item_models.h"
#include "qa_try_panel.h"
#include "tagged_try_view.h"
#include "train/seqeval.h"

namespace bertscope::gui {

void FineTunePage::showHeldout(double epoch, const MlmEvalResult& r) {
  if (trainedTask_ != FineTuneTask::MaskedLanguageModel) return;
  (epoch == 0 ? heldoutBefore_ : heldoutLast_) = r;
  if (epoch > 0 && (!heldoutBest_ || r.top1 > heldoutBest_->second.top1)) heldoutBest_ = std::make_pair(epoch, r);
  accuracy_->append(epoch, r.top1);
  f1_->append(epoch, r.top5);
  const int row = confusion_->rowCount();
  confusion_->insertRow(row);
  const bool whole = std::abs(epoch - std::round(epoch)) < 1e-9;
  confusion_->setVerticalHeaderItem(row, new QTableWidgetItem(epoch == 0 ? tr("Before training")
                                                              : whole ? tr("Epoch %1").arg(std::lround(epoch))
                                                                      : tr("Epoch %1").arg(epoch, 0, 'f', 2)));
  const QStringList cells{QString::number(r.top1, 'f', 4), QString::number(r.top5, 'f', 4), QString::number(r.loss, 'f', 4),
                          QString::number(r.baseline_top1, 'f', 4), QString::number(r.masked)};
  for (int c = 0; c < cells.size(); ++c) confusion_->setItem(row, c, new QTableWidgetItem(cells[c]));
  status_->setText(epoch == 0 ? tr("before training: held-out top-1 %1, top-5 %2").arg(r.top1, 0, 'f', 4).arg(r.top5, 0, 'f', 4)
                              : tr("epoch %1: held-out top-1 %2, top-5 %3").arg(epoch, 0, 'g', 3).arg(r.top1, 0, 'f', 4).arg(r.top5, 0, 'f', 4));
}

// What the results show for `task`: the charts' series and titles, the table's tab and columns, the try boxes.
// From the task's choice on, not only once a run starts. `labels`: the run's tags (entity tags are highlighted).
void FineTunePage::showResultsLayout(FineTuneTask task, const std::vector<std::string>& labels) {
  const bool tokens = task == FineTuneTask::TokenClassification;
  const bool entities = tokens && is_entity_tag_set(labels);
  const bool qa = task == FineTuneTask::QuestionAnswering;
  const bool text = task == FineTuneTask::MaskedLanguageModel;
  accuracy_->setName(text ? tr("top-1") : qa ? tr("exact match") : tr("accuracy"));  // of words, for token classification (the status line says so)
  f1_->setName(text ? tr("top-5") : !tokens ? tr("F1") : entities ? tr("entity F1") : tr("mean F1"));
  // Scores per type fill the table's width; a confusion matrix keeps square-ish cells.
  confusion_->horizontalHeader()->setSectionResizeMode(tokens ? QHeaderView::Stretch : QHeaderView::Interactive);
  details_->setTabText(0, qa ? tr("SQuAD scores") : tokens ? (entities ? tr("Scores per entity type") : tr("Scores per tag"))
                                                          : tr("Confusion matrix"));
  details_->setTabText(1, tr("Misclassified"));
  details_->setTabVisible(1, !qa && !text);  // a question's answer is scored, not right or wrong: the scores tell
  if (qa || text) confusion_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  if (text) details_->setTabText(0, tr("Held-out masked-token accuracy"));
  accuracyChart_->chart()->setTitle(text ? tr("Held-out masked tokens") : qa ? tr("Validation (percent)") : tr("Validation"));
  mistakes_->setHeaders(tokens ? QStringList{tr("Sentence"), tr("Gold (wrong words)"), tr("Predicted")}
                               : QStringList{tr("Sentence"), tr("Gold"), tr("Predicted"), tr("Confidence")});
  // The try table shows probabilities per label (sentences) or a tag per word (tokens).
  tryTable_->setModel(tokens ? tryTags_ : tryResults_);
  // The fine-tuned and before-training columns share the width, so their bars are drawn to one scale.
  QHeaderView* tryHeader = tryTable_->horizontalHeader();
  tryHeader->setStretchLastSection(false);
  tryHeader->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  for (int column : {1, 2}) tryHeader->setSectionResizeMode(column, QHeaderView::Stretch);
  auto* bars = tryTable_->findChild<ProbabilityDelegate*>();
  for (int column : {1, 2}) tryTable_->setItemDelegateForColumn(column, tokens ? nullptr : bars);
  tryText_->setPlaceholderText(tokens ? tr("Try a sentence on the fine-tuned model (words split at spaces)")
                                      : tr("Try a sentence on the fine-tuned model"));
  tryTags_->clear();
  // Question answering is tried with a question and a context; entity tags also show the sentence highlighted.
  // Masked LM is tried in the Fill-mask view, the adapted model beside the one it started from.
  tryText_->setVisible(!qa && !text);
  tryTable_->setVisible(!qa && !text);
  qaTry_->setVisible(qa);
  qaTry_->setEnabled(false);
  qaTry_->clear();
  tryEntities_->setVisible(entities);
  tryEntities_->setLabels(labels);
  confusion_->clear();
  confusion_->setRowCount(0);
  confusion_->setColumnCount(0);
  if (text) {
    confusion_->setColumnCount(5);
    confusion_->setHorizontalHeaderLabels({tr("Top-1"), tr("Top-5"), tr("Loss"), tr("Baseline top-1"), tr("Masked")});
    confusion_->horizontalHeaderItem(3)->setToolTip(tr("The unigram baseline: top-1 of always guessing the held-out "
                                                       "text's most frequent token. Above it, the model uses the context."));
    confusion_->horizontalHeaderItem(4)->setToolTip(tr("Held-out tokens masked and predicted (the same ones each time)"));
  }
  // Masked LM keeps no best epoch (its run keeps one checkpoint, the latest): Save says which model it stores.
  save_->setToolTip(text ? tr("Save the model as the run left it: the last epoch's weights (not the best epoch's; "
                              "the held-out table shows each epoch's scores).")
                         : QString());
}

// Masked LM: Save stores the run's last epoch (the run keeps one checkpoint, the latest); said, with an earlier epoch
// that scored better on the held-out text.
QString FineTunePage::lastEpochNote() const {
  if (!heldoutLast_) return tr(" Save stores the model as the run left it (its last epoch).");
  if (!heldoutBest_ || heldoutBest_->second.top1 <= heldoutLast_->top1)
    return tr(" Save stores the last epoch, which is also the best on held-out top-1.");
  const double best = heldoutBest_->first;
  const bool whole = std::abs(best - std::round(best)) < 1e-9;
  return tr(" Save stores the last epoch (held-out top-1 %1), not the best: epoch %2 scored %3. Masked LM does not keep "
            "the best epoch; for fewer epochs, start a new run with that many.")
      .arg(heldoutLast_->top1, 0, 'f', 3)
      .arg(whole ? QString::number(std::lround(best)) : QString::number(best, 'f', 2))
      .arg(heldoutBest_->second.top1, 0, 'f', 3);
}

void FineTunePage::showMistakes(const QVector<Mistake>& mistakes) {
  QVector<QVector<QVariant>> rows;
  for (const Mistake& m : mistakes) {
    QVector<QVariant> row{m.text, m.gold, m.predicted};
    if (m.confidence >= 0) row << m.confidence;
    rows << row;
  }
  mistakes_->setRows(rows);
  details_->setTabText(1, tr("Misclassified (%1)").arg(mistakes.size()));
}

void FineTunePage::showEpoch(const EpochResult& r) {
  if (trainedTask_ == FineTuneTask::TokenClassification) return showTaggingEpoch(r);
  if (trainedTask_ == FineTuneTask::QuestionAnswering) return showQaEpoch(r);
  if (r.validation.count == 0) return;
  accuracy_->append(r.epoch, r.validation.accuracy);
  f1_->append(r.epoch, r.validation.macro_f1);
  show_confusion(confusion_, trainedLabels_, r.validation.confusion);
  status_->setText(tr("epoch %1: validation accuracy %2, F1 %3").arg(r.epoch).arg(r.validation.accuracy, 0, 'f', 4).arg(r.validation.macro_f1, 0, 'f', 4));
}

void FineTunePage::showTaggingEpoch(const EpochResult& r) {
  const TaggingReport& t = r.tagging;
  if (t.sentences == 0) return;
  // Entity tags: seqeval's entity F1 per type; other tags (parts of speech): F1 per tag, and their mean.
  const std::map<std::string, EntityScores>& per = t.entities ? t.seqeval.per_type : t.per_tag;
  double mean_f1 = 0;
  for (const auto& [name, scores] : per) mean_f1 += scores.f1 / double(per.size());
  const double f1 = t.entities ? t.seqeval.micro.f1 : mean_f1;
  accuracy_->append(r.epoch, t.seqeval.accuracy);
  f1_->append(r.epoch, f1);
  show_tag_scores(confusion_, per);
  status_->setText(t.entities ? tr("epoch %1: validation entity F1 %2, word accuracy %3").arg(r.epoch).arg(f1, 0, 'f', 4).arg(t.seqeval.accuracy, 0, 'f', 4)
                              : tr("epoch %1: validation word accuracy %2, mean F1 over tags %3").arg(r.epoch).arg(t.seqeval.accuracy, 0, 'f', 4).arg(f1, 0, 'f', 4));
}

void FineTunePage::showQaEpoch(const EpochResult& r) {
  const SquadScores& s = r.squad;
  if (s.total == 0) return;
  accuracy_->append(r.epoch, s.exact);  // percent, as the official script and the scores table give them
  f1_->append(r.epoch, s.f1);
  show_squad_scores(confusion_, s);
  status_->setText(tr("epoch %1: validation exact match %2, F1 %3 (%4 questions)")
                       .arg(r.epoch).arg(s.exact, 0, 'f', 2).arg(s.f1, 0, 'f', 2).arg(s.total));
}

}  // namespace bertscope::gui
