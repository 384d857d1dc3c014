#include "model_compare.h"

#include <QSplitter>
#include <QTableView>
#include <algorithm>

#include "head_ablation.h"
#include "item_models.h"

namespace bertscope::gui {

namespace {
QString quoted(const QString& s) { return QStringLiteral("“%1”").arg(s.trimmed()); }
QString quoted(const std::string& s) { return quoted(QString::fromStdString(s)); }

int best_of(const std::vector<LabelScore>& scores) {
  return int(std::max_element(scores.begin(), scores.end(), [](const auto& a, const auto& b) { return a.score < b.score; }) - scores.begin());
}

// Adds "top-1 changed (B: …)" to a change cell, after " · " only when the cell has a change already (B may have
// no value for A's top row: then the cell says just this).
void add_top_changed(QString& cell, const QString& b) {
  const QString note = QObject::tr("top-1 changed (B: %1)").arg(b);
  cell = cell.isEmpty() ? note : cell + QStringLiteral(" · ") + note;
}
}  // namespace

QString model_name(const LoadedModel& model) {
  if (model.built_in) return QStringLiteral("bertscope-default");
  const QString folder = QString::fromStdString(model.info.folder.filename().string());
  return folder.isEmpty() ? QString::fromStdString(model.info.folder.parent_path().filename().string()) : folder;
}

QString model_b_column_title() { return QObject::tr("Model B"); }
QString model_b_change_title() { return QObject::tr("B vs A"); }

ModelBColumns compare_fill_mask_b(const FillMaskReply& a, const ModelBAnswer& b) {
  ModelBColumns out;
  const auto& predictions = a.result.predictions;
  QStringList changes;
  for (size_t m = 0; m < predictions.size(); ++m) {
    for (size_t rank = 0; rank < predictions[m].size(); ++rank) {
      const MaskPrediction& p = predictions[m][rank];
      if (m >= b.fill_mask.size()) {
        out.values << QObject::tr("—");
        out.changes << QString();
        continue;
      }
      const double probabilityB = b.fill_mask[m].at(size_t(p.token));  // same vocabulary: the same word's id
      out.values << probabilityB;
      QString change = probability_change(probabilityB, p.score);
      const QString bestB = QString::fromStdString(b.fill_mask_best[m]).trimmed();
      if (rank == 0 && bestB != QString::fromStdString(p.token_str).trimmed()) {
        add_top_changed(change, quoted(bestB));
        changes << (predictions.size() > 1 ? QObject::tr("mask %1: A %2, B %3").arg(m + 1) : QObject::tr("A %1, B %2"))
                       .arg(quoted(p.token_str), quoted(bestB));
      }
      out.changes << change;
    }
  }
  out.topChange = changes.join(QStringLiteral("; "));
  return out;
}

ModelBColumns compare_labels_b(const ClassifyResult& a, const ClassifyResult& b) {
  ModelBColumns out;
  for (const LabelScore& s : a.scores) {
    const auto same = std::find_if(b.scores.begin(), b.scores.end(), [&](const LabelScore& x) { return x.label == s.label; });
    if (same == b.scores.end()) {
      out.values << QObject::tr("no such label");
      out.changes << QString();
    } else {
      out.values << same->score;
      out.changes << probability_change(same->score, s.score);
    }
  }
  if (a.scores.empty() || b.scores.empty()) return out;
  const int bestA = best_of(a.scores);
  const std::string& labelB = b.scores[size_t(best_of(b.scores))].label;
  if (labelB != a.scores[size_t(bestA)].label) {
    add_top_changed(out.changes[bestA], QString::fromStdString(labelB));
    out.topChange = QObject::tr("A %1, B %2").arg(QString::fromStdString(a.scores[size_t(bestA)].label), QString::fromStdString(labelB));
  }
  return out;
}

ModelBColumns compare_next_sentence_b(const NspResult& a, const NspResult& b) {
  ModelBColumns out;
  out.values << b.is_next << 1.0 - b.is_next;
  out.changes << probability_change(b.is_next, a.is_next) << probability_change(1.0 - b.is_next, 1.0 - a.is_next);
  if ((a.is_next >= 0.5) != (b.is_next >= 0.5)) {
    const QString relationB = b.is_next >= 0.5 ? QStringLiteral("IsNext") : QStringLiteral("NotNext");
    add_top_changed(out.changes[a.is_next >= 0.5 ? 0 : 1], relationB);
    out.topChange = QObject::tr("A %1, B %2").arg(a.is_next >= 0.5 ? QStringLiteral("IsNext") : QStringLiteral("NotNext"), relationB);
  }
  return out;
}

ModelBColumns compare_answers_b(const QaResult& a, const QaResult& b) {
  ModelBColumns out;
  for (const QaAnswer& x : a.answers) {
    const auto same = std::find_if(b.answers.begin(), b.answers.end(),
                                   [&](const QaAnswer& y) { return y.start == x.start && y.end == x.end; });
    if (same == b.answers.end()) {
      out.values << QObject::tr("not in B's top %1").arg(b.answers.size());
      out.changes << QString();
    } else {
      out.values << same->score;
      out.changes << probability_change(same->score, x.score);
    }
  }
  if (!a.answers.empty() && !b.answers.empty() &&
      (a.answers[0].start != b.answers[0].start || a.answers[0].end != b.answers[0].end)) {
    add_top_changed(out.changes[0], quoted(b.answers[0].answer));
    out.topChange = QObject::tr("A %1, B %2").arg(quoted(a.answers[0].answer), quoted(b.answers[0].answer));
  }
  return out;
}

ModelBColumns compare_entities_b(const EntityResult& a, const EntityResult& b) {
  ModelBColumns out;
  const auto same_entity = [](const Entity& x, const Entity& y) { return x.start == y.start && x.end == y.end && x.label == y.label; };
  int missing = 0;
  for (const Entity& x : a.entities) {
    const auto same = std::find_if(b.entities.begin(), b.entities.end(), [&](const Entity& y) { return same_entity(x, y); });
    if (same == b.entities.end()) {
      ++missing;
      out.values << QObject::tr("B does not find it");
      out.changes << QString();
    } else {
      out.values << same->score;
      out.changes << probability_change(same->score, x.score);
    }
  }
  // Entities only model B finds.
  int onlyB = 0;
  for (const Entity& y : b.entities)
    onlyB += std::none_of(a.entities.begin(), a.entities.end(), [&](const Entity& x) { return same_entity(x, y); });
  // The banner's short form: how many differ, then which way.
  if (missing > 0 || onlyB > 0)
    out.topChange = QObject::tr("%1 (%2 of A's not found by B, %3 found only by B)")
                        .arg(missing + onlyB == 1 ? QObject::tr("1 entity differs") : QObject::tr("%1 entities differ").arg(missing + onlyB))
                        .arg(missing).arg(onlyB);
  return out;
}

void add_model_b_columns(QStringList& headers, QVector<QVector<QVariant>>& rows, const ModelBColumns* columns,
                         ResultTableModel* table) {
  // Model B's probabilities show as A's do; a column past the table's own is B's only while comparing.
  QList<int> probabilities;
  for (int c : table->probabilityColumns())
    if (c < headers.size()) probabilities << c;
  if (columns) probabilities << int(headers.size());
  table->setProbabilityColumns(probabilities);
  if (!columns) return;
  headers << model_b_column_title() << model_b_change_title();
  for (int r = 0; r < rows.size(); ++r) {
    rows[r].push_back(r < columns->values.size() ? columns->values[r] : QVariant());
    rows[r].push_back(r < columns->changes.size() ? columns->changes[r] : QString());
  }
}

void fit_model_b_columns(QTableView* table, int firstB, bool comparing) {
  // The splitter pane holding the table, and the splitter.
  QWidget* pane = table;
  auto* splitter = qobject_cast<QSplitter*>(pane->parentWidget());
  while (pane->parentWidget() && !splitter) {
    pane = pane->parentWidget();
    splitter = qobject_cast<QSplitter*>(pane->parentWidget());
  }
  const bool was = table->property("comparingLayout").toBool();
  table->setProperty("comparingLayout", comparing);
  const bool horizontal = splitter && splitter->orientation() == Qt::Horizontal && splitter->count() == 2;
  const int index = horizontal ? splitter->indexOf(pane) : -1;
  if (!comparing) {
    if (was) {  // back to the layout from before comparing
      table->setWordWrap(true);
      if (index >= 0) {
        splitter->setStretchFactor(index, table->property("stretchBefore").toInt());
        splitter->setStretchFactor(1 - index, table->property("otherStretchBefore").toInt());
        splitter->restoreState(table->property("splitterBefore").toByteArray());
      }
    }
    return;
  }
  table->setWordWrap(false);
  table->setTextElideMode(Qt::ElideRight);
  if (firstB + 1 < table->model()->columnCount()) {
    table->resizeColumnToContents(firstB);
    table->setColumnWidth(firstB, std::min(table->columnWidth(firstB), 160));
    table->resizeColumnToContents(firstB + 1);
    table->setColumnWidth(firstB + 1, std::min(table->columnWidth(firstB + 1), 200));
  }
  if (!was && index >= 0) {  // once, as comparing starts: the user's own dragging is kept after that
    table->setProperty("splitterBefore", splitter->saveState());
    table->setProperty("stretchBefore", splitter->widget(index)->sizePolicy().horizontalStretch());
    table->setProperty("otherStretchBefore", splitter->widget(1 - index)->sizePolicy().horizontalStretch());
    // 60 : 40 now, and (the page may not be laid out yet) as the splitter grows to its width.
    QList<int> sizes{0, 0};
    const int total = std::max(1000, splitter->sizes().value(0) + splitter->sizes().value(1));
    sizes[index] = total * 6 / 10;
    sizes[1 - index] = total - sizes[index];
    splitter->setSizes(sizes);
    splitter->setStretchFactor(index, 3);
    splitter->setStretchFactor(1 - index, 2);
  }
}

ElidedAround elide_around(const QString& text, int from, int to, const QFontMetrics& plain, const QFontMetrics& marked,
                          int width) {
  from = std::clamp(from, 0, int(text.size()));
  to = std::clamp(to, from, int(text.size()));
  QString left = text.left(from), right = text.mid(to);
  const QString kept = text.mid(from, to - from);
  const int keptWidth = marked.horizontalAdvance(kept);
  if (plain.horizontalAdvance(left) + keptWidth + plain.horizontalAdvance(right) > width) {
    // Cut the text after the word first, then (with "…" left for it) the text before.
    const int ellipsis = plain.horizontalAdvance(QStringLiteral("…"));
    const int leftWidth = plain.horizontalAdvance(left);
    if (leftWidth + keptWidth + ellipsis <= width) {
      right = plain.elidedText(right, Qt::ElideRight, width - leftWidth - keptWidth);
      if (plain.horizontalAdvance(right) > width - leftWidth - keptWidth) right = QStringLiteral("…");
    } else {
      if (!right.isEmpty()) right = QStringLiteral("…");
      left = plain.elidedText(left, Qt::ElideLeft, std::max(0, width - keptWidth - (right.isEmpty() ? 0 : ellipsis)));
    }
  }
  return {left + kept + right, int(left.size()), int(left.size() + kept.size())};
}

QString model_b_summary(Job job, const ModelBAnswer& b) {
  QStringList parts;
  switch (job) {
    case Job::FillMask:
      for (size_t m = 0; m < b.fill_mask_top.size(); ++m) {
        QStringList words;
        for (const MaskPrediction& p : b.fill_mask_top[m]) words << QStringLiteral("%1 %2").arg(quoted(p.token_str), percent(p.score));
        parts << (b.fill_mask_top.size() > 1 ? QObject::tr("mask %1: %2").arg(m + 1) : QStringLiteral("%2")).arg(words.join(QStringLiteral(", ")));
      }
      break;
    case Job::Classify:
      if (b.classification)
        for (const LabelScore& s : b.classification->scores) parts << QStringLiteral("%1 %2").arg(QString::fromStdString(s.label), percent(s.score));
      if (b.nsp) parts << QStringLiteral("IsNext %1").arg(percent(b.nsp->is_next));
      break;
    case Job::Answer:
      if (b.qa)
        for (const QaAnswer& x : b.qa->answers) parts << QStringLiteral("%1 %2").arg(quoted(x.answer), percent(x.score));
      break;
    case Job::Entities:
      if (b.entities)
        for (const Entity& e : b.entities->entities)
          parts << QStringLiteral("%1 %2 %3").arg(QString::fromStdString(e.label), quoted(e.word), percent(e.score));
      if (b.entities && b.entities->entities.empty()) parts << QObject::tr("no entities");
      break;
    case Job::Attention:
      if (b.attention) parts << QObject::tr("%1 tokens, %2 layers × %3 heads").arg(b.attention->tokens).arg(b.attention->layers).arg(b.attention->heads);
      break;
    default: break;
  }
  return parts.join(QStringLiteral("; "));
}

CompareBanner::CompareBanner(EngineClient* engine, Job job, QWidget* parent) : QLabel(parent), engine_(engine), job_(job) {
  setObjectName(QStringLiteral("compareBanner"));
  setWordWrap(true);
  setTextFormat(Qt::RichText);
  setStyleSheet(QStringLiteral("QLabel { background: #e7f1ff; color: #0b3a6f; border: 1px solid #9ec5fe; padding: 3px 6px; }"));
  connect(this, &QLabel::linkActivated, engine_, [this] { engine_->stopCompare(); });
  // Opening or closing model B shows at once; the page's refresh brings the comparison.
  connect(engine_, &EngineClient::compareChanged, this, [this] { showReply(nullptr); });
  hide();
}

void CompareBanner::showReply(const ModelBAnswer* b, const QStringList& topChanges) {
  unaligned_ = false;
  if (!engine_->comparing() || !engine_->model()) {
    clear();
    hide();
    return;
  }
  QString html = tr("<b>Comparing</b> A: <b>%1</b> with B: <b>%2</b>.")
                     .arg(model_name(*engine_->model()).toHtmlEscaped(), model_name(*engine_->modelB()).toHtmlEscaped());
  if (b && !b->problem.isEmpty()) {
    // "model B has no question-answering head" reads as a sentence of its own; other errors get "Model B:".
    QString problem = b->problem;
    if (problem.startsWith(QLatin1String("model B"))) problem[0] = QLatin1Char('M');
    else problem = tr("Model B: %1").arg(problem);
    html += QStringLiteral(" ") + problem.toHtmlEscaped() + (problem.endsWith(QLatin1Char('.')) ? QString() : QStringLiteral("."));
  } else if (b && !b->aligned) {
    unaligned_ = true;
    html += QStringLiteral(" ") +
            (engine_->sameVocabulary() ? tr("Model B reads this text as other tokens, so the two are not lined up;")
                                       : tr("The two models' vocabularies differ, so their tokens do not line up;")) +
            tr(" model B's answer, unaligned: %1").arg(model_b_summary(job_, *b).toHtmlEscaped());
  } else if (b) {
    QStringList changes;
    for (const QString& c : topChanges)
      if (!c.isEmpty()) changes << c.toHtmlEscaped();
    // What the view shows of B, in its own terms: a map has no top-1, entities differ in number.
    if (job_ == Job::Attention)
      html += tr(" Model B's map for the same layer and head is beside A's.");
    else if (job_ == Job::Entities)
      html += changes.isEmpty() ? tr(" Both find the same entities.") : QStringLiteral(" <b>%1</b>.").arg(changes.join(QStringLiteral("; ")));
    else
      html += changes.isEmpty() ? tr(" Same top-1.") : tr(" <b>Top-1 differs:</b> %1.").arg(changes.join(QStringLiteral("; ")));
  } else if (!engine_->sameVocabulary()) {
    unaligned_ = true;
    html += tr(" The two models' vocabularies differ: model B's answers are shown unaligned.");
  }
  html += QStringLiteral(" <a href=\"stop\">%1</a>").arg(tr("Stop comparing"));
  setText(html);
  show();
}

}  // namespace bertscope::gui
