#pragma once
// The fine-tune view's "try a sentence" for named entities: the sentence twice, its entities highlighted as the
// Entities view shows them (a colour per type, the type after each), as the fine-tuned model tags it and as the
// model did before training. Words are split at spaces, as the tagger reads them; B-/I- tags group into entities
// (an I- tag after O or another type opens one, as seqeval's default reading does).
#include <QWidget>
#include <string>
#include <vector>

#include "entity_views.h"

class QLabel;
class QTextBrowser;

namespace bertscope::gui {

class TaggedTryView : public QWidget {
  Q_OBJECT
 public:
  explicit TaggedTryView(QWidget* parent = nullptr);
  void setLabels(const std::vector<std::string>& labels);  // the run's tags: the colours and the legend
  // `words` as found in `text` (in order), each word's tag after and before training ("" for a word not tagged).
  void showTags(const QString& text, const QStringList& words, const QStringList& after, const QStringList& before);
  void clear();
  QTextBrowser* after() const { return after_; }
  QTextBrowser* before() const { return before_; }
  const EntityPalette& palette() const { return palette_; }

 private:
  QLabel* legend_;
  QTextBrowser *after_, *before_;
  EntityPalette palette_;
};

}  // namespace bertscope::gui
