#include "head_ablation.h"

#include <algorithm>

namespace bertscope::gui {

QString probability_change(double withHeadsOff, double full) {
  return QStringLiteral("%1 pts").arg(QString::asprintf("%+.1f", 100.0 * (withHeadsOff - full)));
}

QString change_column_title() { return QObject::tr("vs all heads"); }

namespace {
QString quoted(const QString& s) { return QStringLiteral("“%1”").arg(s.trimmed()); }

int best_of(const std::vector<LabelScore>& scores) {
  return int(std::max_element(scores.begin(), scores.end(), [](const auto& a, const auto& b) { return a.score < b.score; }) - scores.begin());
}
}  // namespace

Comparison compare_fill_mask(const FillMaskReply& reply, const FullModelAnswer& full) {
  Comparison out;
  const auto& predictions = reply.result.predictions;
  QStringList changes;
  for (size_t m = 0; m < predictions.size() && m < full.fill_mask.size(); ++m) {
    for (size_t rank = 0; rank < predictions[m].size(); ++rank) {
      const MaskPrediction& p = predictions[m][rank];
      QString text = probability_change(p.score, full.fill_mask[m].at(size_t(p.token)));
      const QString was = QString::fromStdString(full.fill_mask_best[m]).trimmed();
      if (rank == 0 && was != QString::fromStdString(p.token_str).trimmed()) {
        text += QObject::tr(" · top-1 changed (was %1)").arg(quoted(was));
        changes << (predictions.size() > 1 ? QObject::tr("mask %1: %2 → %3").arg(m + 1) : QStringLiteral("%1 → %2"))
                       .arg(quoted(was), quoted(QString::fromStdString(p.token_str)));
      }
      out.rows << text;
    }
  }
  out.topChange = changes.join(QStringLiteral("; "));
  return out;
}

Comparison compare_labels(const ClassifyResult& now, const ClassifyResult& full) {
  Comparison out;
  for (size_t i = 0; i < now.scores.size(); ++i)
    out.rows << (i < full.scores.size() ? probability_change(now.scores[i].score, full.scores[i].score) : QString());
  if (now.scores.empty() || now.scores.size() != full.scores.size()) return out;
  const int best = best_of(now.scores), was = best_of(full.scores);
  if (best != was) {
    out.rows[best] += QObject::tr(" · top-1 changed (was %1)").arg(QString::fromStdString(full.scores[size_t(was)].label));
    out.topChange = QStringLiteral("%1 → %2").arg(QString::fromStdString(full.scores[size_t(was)].label),
                                                  QString::fromStdString(now.scores[size_t(best)].label));
  }
  return out;
}

Comparison compare_next_sentence(const NspResult& now, const NspResult& full) {
  Comparison out;
  out.rows << probability_change(now.is_next, full.is_next) << probability_change(1.0 - now.is_next, 1.0 - full.is_next);
  if ((now.is_next >= 0.5) != (full.is_next >= 0.5)) {
    out.rows[now.is_next >= 0.5 ? 0 : 1] += QObject::tr(" · top-1 changed");
    out.topChange = now.is_next >= 0.5 ? QObject::tr("NotNext → IsNext") : QObject::tr("IsNext → NotNext");
  }
  return out;
}

Comparison compare_answers(const QaResult& now, const QaResult& full) {
  Comparison out;
  for (const QaAnswer& a : now.answers) {
    const auto same = std::find_if(full.answers.begin(), full.answers.end(),
                                   [&](const QaAnswer& f) { return f.start == a.start && f.end == a.end; });
    out.rows << (same != full.answers.end() ? probability_change(a.score, same->score)
                                            : QObject::tr("new: not in the full model's top %1").arg(full.answers.size()));
  }
  if (!now.answers.empty() && !full.answers.empty() &&
      (now.answers[0].start != full.answers[0].start || now.answers[0].end != full.answers[0].end)) {
    out.rows[0] += QObject::tr(" · top-1 changed (was %1)").arg(quoted(QString::fromStdString(full.answers[0].answer)));
    out.topChange = QStringLiteral("%1 → %2").arg(quoted(QString::fromStdString(full.answers[0].answer)),
                                                  quoted(QString::fromStdString(now.answers[0].answer)));
  }
  return out;
}

Comparison compare_entities(const EntityResult& now, const EntityResult& full) {
  Comparison out;
  int added = 0;
  for (const Entity& e : now.entities) {
    const auto same = std::find_if(full.entities.begin(), full.entities.end(), [&](const Entity& f) {
      return f.start == e.start && f.end == e.end && f.label == e.label;
    });
    if (same == full.entities.end()) ++added;
    out.rows << (same != full.entities.end() ? probability_change(e.score, same->score) : QObject::tr("new: the full model does not find it"));
  }
  // Entities the full model finds that are gone now.
  int gone = 0;
  for (const Entity& f : full.entities)
    gone += std::none_of(now.entities.begin(), now.entities.end(), [&](const Entity& e) {
      return f.start == e.start && f.end == e.end && f.label == e.label;
    });
  if (added > 0 || gone > 0) out.topChange = QObject::tr("entities %1 new, %2 gone").arg(added).arg(gone);
  return out;
}

void add_change_column(QStringList& headers, QVector<QVector<QVariant>>& rows, const Comparison* comparison) {
  if (!comparison) return;
  headers << change_column_title();
  for (int r = 0; r < rows.size(); ++r) rows[r].push_back(r < comparison->rows.size() ? comparison->rows[r] : QString());
}

AblationBanner::AblationBanner(EngineClient* engine, QWidget* parent) : QLabel(parent), engine_(engine) {
  setObjectName(QStringLiteral("ablationBanner"));
  setWordWrap(true);
  setTextFormat(Qt::RichText);
  setStyleSheet(QStringLiteral("QLabel { background: #fff3cd; color: #5c4400; border: 1px solid #e0c36a; padding: 3px 6px; }"));
  connect(this, &QLabel::linkActivated, engine_, [this] { engine_->setHeadMask({}); });
  // A change of the mask shows at once; the page's refresh brings the comparison.
  connect(engine_, &EngineClient::headMaskChanged, this, [this] { showCount(engine_->headsOff(), {}); });
  hide();
}

void AblationBanner::showReply(const Ablation* ablation, const QStringList& topChanges) {
  // No comparison (a text without a mask, a failed request): the count still shows while heads are off.
  showCount(ablation ? ablation->heads_off : engine_->headsOff(), topChanges);
}

void AblationBanner::showCount(int headsOff, const QStringList& topChanges) {
  if (headsOff <= 0) {
    clear();
    hide();
    return;
  }
  QString html = (headsOff == 1 ? tr("<b>1 head switched off</b>") : tr("<b>%1 heads switched off</b>").arg(headsOff)) +
                 tr(" (in the Attention view): changes are against the full model.");
  QStringList changes;
  for (const QString& c : topChanges)
    if (!c.isEmpty()) changes << c.toHtmlEscaped();
  if (!changes.isEmpty()) html += tr(" <b>Changed:</b> %1.").arg(changes.join(QStringLiteral("; ")));
  html += QStringLiteral(" <a href=\"restore\">%1</a>").arg(tr("Switch every head back on"));
  setText(html);
  show();
}

}  // namespace bertscope::gui
