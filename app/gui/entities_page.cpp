#include "entities_page.h"

#include <QComboBox>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QTableView>
#include <QTextBlock>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "head_ablation.h"
#include "model_compare.h"
#include "item_models.h"
#include "page_support.h"
#include "saliency_panel.h"
#include "text_spans.h"

namespace bertscope::gui {

namespace {
const QString kAnchor = QStringLiteral("entity:");

QGroupBox* boxed(const QString& title, QWidget* content, QWidget* parent) {
  auto* box = new QGroupBox(title, parent);
  auto* layout = new QVBoxLayout(box);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(content);
  return box;
}

QString strategy_help(Aggregation a) {
  switch (a) {
    case Aggregation::None: return QObject::tr("One row per token with its own label (B-PER, I-PER, …): what transformers' pipeline gives by default.");
    case Aggregation::Simple: return QObject::tr("Neighbouring tokens of one type (B- then I-) grouped into an entity; the score is their mean. Word pieces may end up with different types.");
    case Aggregation::First: return QObject::tr("As simple, but a word keeps one type: that of its first piece.");
    case Aggregation::Average: return QObject::tr("As simple, but a word keeps one type: the best of its pieces' averaged probabilities.");
    case Aggregation::Max: return QObject::tr("As simple, but a word keeps one type: that of its most confident piece.");
  }
  return {};
}
}  // namespace

EntitiesPage::EntitiesPage(EngineClient* engine, QWidget* parent) : TaskPage(engine, Job::Entities, 200, parent) {
  text_ = make_text_editor(tr("A text to find named entities in (any length: long texts are read in overlapping windows)"), 3, this);
  aggregation_ = new QComboBox(this);
  for (Aggregation a : {Aggregation::None, Aggregation::Simple, Aggregation::First, Aggregation::Average, Aggregation::Max}) {
    aggregation_->addItem(QString::fromStdString(aggregation_name(a)), int(a));
    aggregation_->setItemData(aggregation_->count() - 1, strategy_help(a), Qt::ToolTipRole);
  }
  aggregation_->setCurrentIndex(int(kDefaultAggregation));
  aggregation_->setToolTip(tr("How tokens become entities, as Hugging Face's aggregation_strategy. transformers' "
                              "pipeline defaults to none; this view starts with simple, which groups B-/I- tokens."));
  legend_ = new QLabel(this);
  legend_->setTextFormat(Qt::RichText);
  summary_ = new QLabel(this);
  summary_->setStyleSheet(QStringLiteral("color: #555;"));

  view_ = new QTextBrowser(this);
  view_->setOpenLinks(false);  // an entity is a link only so that hovering it is reported
  view_->setPlaceholderText(tr("The text, with its entities highlighted, appears here."));
  entities_ = new ResultTableModel({tr("Type"), tr("Text"), tr("Score"), tr("Start"), tr("End")}, int(Score), this);
  table_ = new QTableView(this);
  table_->setModel(entities_);
  table_->setItemDelegateForColumn(Type, new EntityTypeDelegate(&palette_, table_));
  table_->setItemDelegateForColumn(Score, new ProbabilityDelegate(table_));
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setMouseTracking(true);
  table_->verticalHeader()->hide();
  table_->setColumnWidth(Type, 80);
  table_->setColumnWidth(Score, 130);
  table_->setColumnWidth(Start, 50);
  table_->setColumnWidth(End, 50);
  table_->horizontalHeader()->setSectionResizeMode(Text, QHeaderView::Stretch);  // the rest keep their widths
  table_->setToolTip(tr("Start and End count characters (Unicode code points) from the start of the text"));
  labels_ = new TokenLabelModel(this);
  heat_ = new QTableView(this);
  heat_->setModel(labels_);
  heat_->setItemDelegate(new HeatCellDelegate(heat_));
  heat_->setItemDelegateForColumn(0, new QStyledItemDelegate(heat_));  // the token column is plain text
  heat_->setSelectionMode(QAbstractItemView::NoSelection);
  heat_->setMouseTracking(true);
  heat_->setShowGrid(false);
  heat_->verticalHeader()->setDefaultSectionSize(heat_->fontMetrics().height() + 6);
  heat_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
  heat_->verticalHeader()->hide();  // the token's tooltip gives its index
  heat_->horizontalHeader()->setDefaultSectionSize(46);
  heat_->horizontalHeader()->setMinimumSectionSize(30);

  auto* tables = new QSplitter(Qt::Horizontal, this);
  tables->addWidget(boxed(tr("Entities"), table_, this));
  tables->addWidget(boxed(tr("Label probabilities per token (%)"), heat_, this));
  tables->setSizes({520, 680});
  auto* results = new QSplitter(Qt::Vertical, this);
  results->addWidget(boxed(tr("Entities in the text"), view_, this));
  results->addWidget(tables);
  results->setStretchFactor(1, 1);
  results->setSizes({130, 450});
  results_ = results;

  auto* options = new QHBoxLayout;
  aggregationLabel_ = new QLabel(tr("Aggregation:"), this);
  aggregationLabel_->setBuddy(aggregation_);
  options->addWidget(aggregationLabel_);
  options->addWidget(aggregation_);
  options->addSpacing(12);
  options->addWidget(legend_, 1);
  options->addWidget(summary_);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message());
  ablationBanner_ = new AblationBanner(engine, this);
  layout->addWidget(ablationBanner_);
  compareBanner_ = new CompareBanner(engine, Job::Entities, this);
  layout->addWidget(compareBanner_);
  layout->addWidget(text_);
  layout->addLayout(options);
  layout->addWidget(addSaliency(ExplainTask::TokenClassification));
  layout->addWidget(wrapResults(results), 1);

  connect(engine, &EngineClient::headMaskChanged, this, [this] { refresh(); });  // answer with the heads now off
  connect(engine, &EngineClient::compareChanged, this, [this] { refresh(); });   // model B answers too, or no more
  connect(text_, &QPlainTextEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(aggregation_, &QComboBox::activated, this, [this] { refresh(); });
  connect(view_, &QTextBrowser::highlighted, this, [this](const QUrl& link) {
    const QString target = link.toString();
    if (!target.startsWith(kAnchor)) return showEntity(-1);
    const int entity = target.mid(kAnchor.size()).toInt();
    showEntity(entity);
    table_->selectRow(entity);
  });
  connect(table_, &QTableView::entered, this, [this](const QModelIndex& index) { showEntity(index.row()); });
  // Saliency explains what is clicked: an entity (in the table or the text), or a token's label (a heat map cell).
  connect(table_, &QTableView::clicked, this, [this](const QModelIndex& index) { explainEntity(index.row()); });
  connect(view_, &QTextBrowser::anchorClicked, this, [this](const QUrl& link) {
    if (link.toString().startsWith(kAnchor)) explainEntity(link.toString().mid(kAnchor.size()).toInt());
  });
  connect(heat_, &QTableView::clicked, this, [this](const QModelIndex& index) { explainToken(index.row(), index.column() - 1); });
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) { if (current.isValid()) showEntity(current.row()); });
  connect(heat_, &QTableView::entered, this, [this](const QModelIndex& index) {
    if (!shown_) return;
    for (size_t e = 0; e < shown_->result.entities.size(); ++e) {
      const auto& tokens = shown_->result.entities[e].tokens;
      if (std::find(tokens.begin(), tokens.end(), index.row()) != tokens.end()) return showEntity(int(e));
    }
    showToken(index.row());
  });
  onReply(&EngineClient::entitiesFound, [this](const Ptr<EntitiesReply>& reply) {
    message()->clearMessage();
    shownText_ = requestedText_;
    shown_ = reply;
    showResult();
  });
  updateLegend();
}

void EntitiesPage::setModel(const Ptr<LoadedModel>& model) {
  usable_ = model && model->token_classifier;
  palette_.reset(usable_ ? model->token_labels : QStringList());
  updateLegend();
  clearResults();
  setInputsUsable({text_, aggregationLabel_, aggregation_}, usable_ || !model);
  results_->setVisible(usable_);
  if (!model) return;
  if (!usable_) {
    dropRequests();
    message()->showNotice(tr("This model has no token-classification head (it is a %1: %2), so it cannot find named "
                             "entities. Load a *ForTokenClassification model, e.g. dslim/bert-base-NER (File > Open "
                             "from Hugging Face…), or make one: on the Fine-tune tab, train token classification on "
                             "CoNLL data, press Save…, then Open saved model.")
                              .arg(QString::fromStdString(model->info.architecture), QString::fromStdString(model->info.heads)));
    return;
  }
  message()->clearMessage();
  refresh();
}

void EntitiesPage::setText(const QString& text) {
  text_->setPlainText(text);
  refresh();
}

QString EntitiesPage::text() const { return text_->toPlainText(); }

void EntitiesPage::setAggregation(Aggregation aggregation) {
  aggregation_->setCurrentIndex(aggregation_->findData(int(aggregation)));
  refresh();
}

Aggregation EntitiesPage::aggregation() const { return Aggregation(aggregation_->currentData().toInt()); }

void EntitiesPage::refresh() {
  cancelScheduledRefresh();
  if (!usable_) return;
  requestedText_ = text_->toPlainText();
  if (requestedText_.trimmed().isEmpty()) {
    dropRequests();
    clearResults();
    message()->showNotice(tr("Type a text to find its named entities, e.g. \"Ada Lovelace met Charles Babbage in London.\""));
    return;
  }
  track(engine()->entities(requestedText_, aggregation()));
  saliency()->explain({ExplainTask::TokenClassification, requestedText_});  // the first entity until one is clicked
}

QString EntitiesPage::legendText() const { return legend_->text(); }

QString EntitiesPage::summary() const { return summary_->text(); }

void EntitiesPage::updateLegend() {
  QString html;
  for (const QString& type : palette_.types())
    html += QStringLiteral("<span style=\"background-color:%1; color:#000;\">&nbsp;%2&nbsp;</span>&nbsp; ")
                .arg(palette_.color(type).name(), type.toHtmlEscaped());
  legend_->setText(html);
  legend_->setToolTip(palette_.types().isEmpty() ? QString() : tr("The colour of each entity type"));
}

void EntitiesPage::clearResults() {
  shown_.reset();
  hovered_ = -1;
  entities_->clear();
  labels_->setReply(nullptr);
  view_->clear();
  tags_.clear();
  spans_.clear();
  summary_->clear();
}

void EntitiesPage::showFailure(const QString& error) {
  clearResults();
  message()->showError(error);
}

void EntitiesPage::showResult() {
  const EntityResult& result = shown_->result;
  hovered_ = -1;
  QVector<QVector<QVariant>> rows;
  for (const Entity& e : result.entities)
    rows.push_back({QString::fromStdString(e.label), QString::fromStdString(e.word), e.score, e.start, e.end});
  // With heads switched off: each entity's change against the full model, new and lost entities counted.
  const Ablation* ablation = engine()->ablation(Job::Entities, latestRequest());
  const Comparison comparison = ablation && ablation->full->entities ? compare_entities(result, *ablation->full->entities) : Comparison{};
  QStringList headers{tr("Type"), tr("Text"), tr("Score"), tr("Start"), tr("End")};
  add_change_column(headers, rows, ablation ? &comparison : nullptr);
  ablationBanner_->showReply(ablation, {comparison.topChange});
  // While comparing: model B's score for the same span and type and its change from A's.
  const ModelBAnswer* b = engine()->comparison(Job::Entities, latestRequest());
  const bool lined_up = b && b->aligned && b->problem.isEmpty() && b->entities;
  const ModelBColumns columnsB = lined_up ? compare_entities_b(result, *b->entities) : ModelBColumns{};
  add_model_b_columns(headers, rows, lined_up ? &columnsB : nullptr, entities_);
  compareBanner_->showReply(b, {columnsB.topChange});
  if (headers.size() != entities_->columnCount()) entities_->setHeaders(headers);
  entities_->setRows(rows);
  // While comparing, the Text column keeps a readable width (cut with "…", whole in its tooltip) and B's columns
  // fit beside it; else it takes the room left.
  table_->horizontalHeader()->setSectionResizeMode(Text, lined_up ? QHeaderView::Interactive : QHeaderView::Stretch);
  table_->horizontalHeader()->setStretchLastSection(lined_up);
  if (lined_up) {
    table_->setColumnWidth(Text, 110);
    table_->setColumnWidth(Score, 100);
    table_->setColumnWidth(Start, 45);
    table_->setColumnWidth(End, 45);
  } else {
    table_->setColumnWidth(Score, 130);
    table_->setColumnWidth(Start, 50);
    table_->setColumnWidth(End, 50);
  }
  fit_model_b_columns(table_, int(headers.size()) - 2, lined_up);
  labels_->setReply(shown_);
  heat_->setColumnWidth(0, 100);
  renderText();
  const int found = int(result.entities.size()), tokens = int(result.tokens.size());
  QString summary = (found == 1 ? tr("1 entity") : tr("%1 entities").arg(found)) +
                    (tokens == 1 ? tr(" · 1 token") : tr(" · %1 tokens").arg(tokens));
  if (result.windows > 1) summary += tr(" · read in %1 overlapping windows").arg(result.windows);
  summary_->setText(summary);
}

void EntitiesPage::renderText() {
  const CodePointIndex index(shownText_);
  std::vector<HighlightSpan> spans;
  for (size_t i = 0; i < shown_->result.entities.size(); ++i) {
    const Entity& e = shown_->result.entities[i];
    const QString label = QString::fromStdString(e.label);
    spans.push_back({index.utf16(e.start), index.utf16(e.end), label, tr("%1 · %2").arg(label, percent(e.score)),
                     kAnchor + QString::number(i)});
  }
  HighlightedText shown = show_highlighted(view_, shownText_, spans, palette_);
  spans_ = std::move(shown.spans);
  tags_ = std::move(shown.tags);
}

int EntitiesPage::documentPosition(int utf16, bool end) const {
  int position = utf16;
  for (const auto& [at, length] : tags_)
    if (at < utf16 || (at == utf16 && !end)) position += length;  // a tag right at an end comes after it
  return position;
}

std::pair<int, int> EntitiesPage::entityDocumentRange(int entity) const {
  return entity >= 0 && entity < int(spans_.size()) ? spans_[size_t(entity)] : std::pair<int, int>{-1, -1};
}

void EntitiesPage::showEntity(int entity) {
  if (!shown_ || entity >= int(shown_->result.entities.size())) entity = -1;
  if (entity >= 0 && entity == hovered_) return;
  hovered_ = entity;
  QList<QTextEdit::ExtraSelection> selections;
  if (entity < 0) {
    labels_->setHighlighted({});
    view_->setExtraSelections(selections);
    return;
  }
  const Entity& e = shown_->result.entities[size_t(entity)];
  labels_->setHighlighted(e.tokens);
  if (!e.tokens.empty()) heat_->scrollTo(labels_->index(e.tokens.front(), 0));
  const auto [from, to] = spans_[size_t(entity)];
  if (from >= 0) {
    QTextEdit::ExtraSelection selection;
    selection.cursor = QTextCursor(view_->document());
    selection.cursor.setPosition(from);
    selection.cursor.setPosition(to, QTextCursor::KeepAnchor);
    selection.format.setBackground(palette_.color(QString::fromStdString(e.label)).darker(125));
    selection.format.setFontUnderline(true);
    selections << selection;
    QTextCursor at(view_->document());  // a long text scrolls to it (hovered in the text, it is in view already)
    at.setPosition(from);
    view_->setTextCursor(at);
    view_->ensureCursorVisible();
  }
  view_->setExtraSelections(selections);
}

void EntitiesPage::showToken(int token) {
  hovered_ = -1;
  if (!shown_ || token < 0 || token >= int(shown_->result.tokens.size())) return;
  labels_->setHighlighted({token});
  const TokenLabel& t = shown_->result.tokens[size_t(token)];
  const CodePointIndex index(shownText_);
  QTextEdit::ExtraSelection selection;
  selection.cursor = QTextCursor(view_->document());
  selection.cursor.setPosition(documentPosition(index.utf16(t.start), false));
  selection.cursor.setPosition(documentPosition(index.utf16(t.end), true), QTextCursor::KeepAnchor);
  selection.format.setBackground(QColor(255, 220, 120));
  view_->setExtraSelections({selection});
}

void EntitiesPage::explainEntity(int entity) {
  if (!shown_ || entity < 0 || entity >= int(shown_->result.entities.size())) return;
  const Entity& e = shown_->result.entities[size_t(entity)];
  if (!e.tokens.empty()) explainToken(e.tokens.front());  // B-PER for a PER entity: the label its first token has
}

void EntitiesPage::explainToken(int token, int label) {
  if (!shown_ || text_->toPlainText() != shownText_ || token < 0 || token >= int(shown_->result.tokens.size())) return;
  const TokenLabel& t = shown_->result.tokens[size_t(token)];
  if (label < 0 || label >= int(shown_->labels.size())) label = int(shown_->labels.indexOf(QString::fromStdString(t.entity)));
  saliency()->setTarget(-1, label, t.start);  // the engine finds the token by where it starts in the text
}

}  // namespace bertscope::gui
