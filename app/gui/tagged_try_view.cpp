#include "tagged_try_view.h"

#include <QGridLayout>
#include <QLabel>
#include <QTextBrowser>

#include "train/seqeval.h"

namespace bertscope::gui {

namespace {
// The entities of `tags` as spans of `text`: each word's place is found from where the previous one ended.
std::vector<HighlightSpan> entity_highlights(const QString& text, const QStringList& words, const QStringList& tags) {
  std::vector<std::pair<int, int>> place;  // per word: UTF-16 [from, to) in text
  int at = 0;
  for (const QString& word : words) {
    const int from = int(text.indexOf(word, at));
    if (from < 0) return {};  // the text changed since these words were tagged: show it plain
    place.emplace_back(from, from + int(word.size()));
    at = from + int(word.size());
  }
  std::vector<std::string> iob;
  for (int w = 0; w < words.size(); ++w) {
    const QString tag = tags.value(w);
    iob.push_back(tag.isEmpty() ? std::string("O") : tag.toStdString());  // "": past the model's length
  }
  std::vector<HighlightSpan> spans;
  try {
    for (const EntitySpan& e : entity_spans(iob, /*strict=*/false)) {
      const QString type = QString::fromStdString(e.type);
      QStringList covered;
      for (int w = e.begin; w <= e.end; ++w) covered << words[w] + QLatin1Char('/') + tags.value(w);
      spans.push_back({place[size_t(e.begin)].first, place[size_t(e.end)].second, type, covered.join(QLatin1Char(' ')), {}});
    }
  } catch (const std::exception&) {
    return {};  // not entity tags (parts of speech): nothing to highlight
  }
  return spans;
}

QTextBrowser* sentence_view(QWidget* parent) {
  auto* view = new QTextBrowser(parent);
  view->setOpenLinks(false);
  view->setMaximumHeight(view->fontMetrics().height() * 3 + 12);
  view->setMinimumHeight(view->fontMetrics().height() + 12);
  return view;
}
}  // namespace

TaggedTryView::TaggedTryView(QWidget* parent) : QWidget(parent) {
  legend_ = new QLabel(this);
  legend_->setTextFormat(Qt::RichText);
  after_ = sentence_view(this);
  after_->setObjectName(QStringLiteral("tryEntitiesAfter"));
  before_ = sentence_view(this);
  before_->setObjectName(QStringLiteral("tryEntitiesBefore"));
  auto* layout = new QGridLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(legend_, 0, 0, 1, 2);
  layout->addWidget(new QLabel(tr("Fine-tuned"), this), 1, 0);
  layout->addWidget(after_, 1, 1);
  layout->addWidget(new QLabel(tr("Before training"), this), 2, 0);
  layout->addWidget(before_, 2, 1);
  layout->setColumnStretch(1, 1);
}

void TaggedTryView::setLabels(const std::vector<std::string>& labels) {
  QStringList names;
  for (const std::string& l : labels) names << QString::fromStdString(l);
  palette_.reset(names);
  QString html;
  for (const QString& type : palette_.types())
    html += QStringLiteral("<span style=\"background-color:%1; color:#000;\">&nbsp;%2&nbsp;</span>&nbsp; ")
                .arg(palette_.color(type).name(), type.toHtmlEscaped());
  legend_->setText(html);
  clear();
}

void TaggedTryView::showTags(const QString& text, const QStringList& words, const QStringList& after,
                             const QStringList& before) {
  show_highlighted(after_, text, entity_highlights(text, words, after), palette_);
  show_highlighted(before_, text, entity_highlights(text, words, before), palette_);
}

void TaggedTryView::clear() {
  after_->clear();
  before_->clear();
}

}  // namespace bertscope::gui
