#include "qa_page.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScatterSeries>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTextDocument>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include "head_ablation.h"
#include "model_compare.h"
#include "item_models.h"
#include "page_support.h"
#include "saliency_panel.h"
#include "text_spans.h"

namespace bertscope::gui {

QaPage::QaPage(EngineClient* engine, QWidget* parent) : TaskPage(engine, Job::Answer, 500, parent) {
  question_ = new QLineEdit(this);
  question_->setPlaceholderText(tr("Question"));
  context_ = new QPlainTextEdit(this);
  context_->setPlaceholderText(tr("Context: the text that holds the answer (any length: long texts are read in overlapping windows)"));
  topK_ = new QSpinBox(this);
  topK_->setRange(1, 20);
  topK_->setValue(5);
  topK_->setPrefix(tr("top "));
  answer_ = new QPushButton(tr("Answer"), this);
  answer_->setToolTip(tr("Ctrl+Return"));
  best_ = new QLabel(this);
  best_->setWordWrap(true);
  best_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  answers_ = new ResultTableModel({tr("Answer"), tr("Score"), tr("Start"), tr("End"), tr("Window")}, 1, this);
  table_ = new QTableView(this);
  table_->setModel(answers_);
  table_->setItemDelegateForColumn(1, new ProbabilityDelegate(table_));
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  chartView_ = new QChartView(new QChart, this);
  chartView_->setRenderHint(QPainter::Antialiasing);
  chartView_->setMinimumHeight(180);

  auto* top = new QHBoxLayout;
  top->addWidget(question_, 1);
  top->addWidget(topK_);
  top->addWidget(answer_);
  auto* results = new QSplitter(Qt::Horizontal, this);
  results->addWidget(table_);
  results->addWidget(chartView_);
  results->setStretchFactor(1, 1);
  results->setSizes({520, 680});
  results_ = results;
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(context_);
  split->addWidget(wrapResults(results));
  split->setSizes({220, 420});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(message());
  ablationBanner_ = new AblationBanner(engine, this);
  layout->addWidget(ablationBanner_);
  compareBanner_ = new CompareBanner(engine, Job::Answer, this);
  layout->addWidget(compareBanner_);
  layout->addLayout(top);
  layout->addWidget(best_);
  layout->addWidget(addSaliency(ExplainTask::QuestionAnswering));
  side_ = new QComboBox(this);
  side_->addItems({tr("answer start"), tr("answer end")});
  side_->setToolTip(tr("Which logit of the selected answer to explain: its start or its end"));
  saliency()->addControl(side_);
  connect(side_, &QComboBox::currentIndexChanged, this, [this] { explainAnswer(std::max(0, table_->currentIndex().row())); });
  layout->addWidget(split, 1);

  connect(engine, &EngineClient::headMaskChanged, this, [this] { refresh(); });  // answer with the heads now off
  connect(engine, &EngineClient::compareChanged, this, [this] { refresh(); });   // model B answers too, or no more
  connect(question_, &QLineEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(context_, &QPlainTextEdit::textChanged, this, &TaskPage::scheduleRefresh);
  connect(topK_, &QSpinBox::valueChanged, this, [this] { refresh(); });
  connect(answer_, &QPushButton::clicked, this, &QaPage::refresh);
  connect(question_, &QLineEdit::returnPressed, this, &QaPage::refresh);
  auto* shortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
  connect(shortcut, &QShortcut::activated, this, &QaPage::refresh);
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) { if (current.isValid()) showAnswer(current.row()); });
  onReply(&EngineClient::answered, [this](const Ptr<QaResult>& result) {
    message()->clearMessage();
    shownContext_ = requestedContext_;
    shown_ = result;
    showResult(*result);
  });
}

void QaPage::showFailure(const QString& error) {
  answers_->clear();
  best_->clear();
  message()->showError(error);
}

void QaPage::setModel(const Ptr<LoadedModel>& model) {
  usable_ = model && model->qa;
  shown_.reset();
  answers_->clear();
  best_->clear();
  chartView_->chart()->removeAllSeries();
  highlight_range(context_, 0, 0, Qt::yellow);
  results_->setVisible(usable_);
  setInputsUsable({question_, context_, topK_, answer_}, usable_ || !model);
  if (!model) return;
  if (!usable_) {
    dropRequests();
    message()->showNotice(tr("This model has no question-answering head (it is a %1). Load a "
                            "BertForQuestionAnswering checkpoint, for example a SQuAD fine-tune, to answer questions, "
                            "or make one: on the Fine-tune tab, train question answering on SQuAD data, press Save…, "
                            "then Open saved model.")
                             .arg(QString::fromStdString(model->info.architecture)));
    return;
  }
  message()->clearMessage();
  refresh();
}

void QaPage::setInput(const QString& question, const QString& context) {
  question_->setText(question);
  context_->setPlainText(context);
  refresh();
}

QString QaPage::answerText() const { return best_->text(); }

void QaPage::refresh() {
  cancelScheduledRefresh();
  if (!usable_) return;
  if (question_->text().trimmed().isEmpty() || context_->toPlainText().trimmed().isEmpty()) {
    dropRequests();
    message()->showNotice(tr("Type a question and a context that answers it."));
    return;
  }
  requestedContext_ = context_->toPlainText();
  track(engine()->answer(question_->text(), requestedContext_, topK_->value()));
}

void QaPage::showResult(const QaResult& result) {
  QVector<QVector<QVariant>> rows;
  for (const QaAnswer& a : result.answers)
    rows.push_back({QString::fromStdString(a.answer), a.score, a.start, a.end, a.window + 1});
  // With heads switched off: each answer's change against the full model, a changed best answer flagged.
  const Ablation* ablation = engine()->ablation(Job::Answer, latestRequest());
  const Comparison comparison = ablation && ablation->full->qa ? compare_answers(result, *ablation->full->qa) : Comparison{};
  QStringList headers{tr("Answer"), tr("Score"), tr("Start"), tr("End"), tr("Window")};
  add_change_column(headers, rows, ablation ? &comparison : nullptr);
  ablationBanner_->showReply(ablation, {comparison.topChange});
  // While comparing: model B's score for the same answer span and its change from A's.
  const ModelBAnswer* b = engine()->comparison(Job::Answer, latestRequest());
  const bool lined_up = b && b->aligned && b->problem.isEmpty() && b->qa;
  const ModelBColumns columnsB = lined_up ? compare_answers_b(result, *b->qa) : ModelBColumns{};
  add_model_b_columns(headers, rows, lined_up ? &columnsB : nullptr, answers_);
  compareBanner_->showReply(b, {columnsB.topChange});
  if (headers.size() != answers_->columnCount()) answers_->setHeaders(headers);
  answers_->setRows(rows);
  table_->resizeColumnsToContents();
  // While comparing, A's columns narrower (a long answer cut with "…", whole in its tooltip) so that B's fit.
  table_->setColumnWidth(0, std::min(table_->columnWidth(0), lined_up ? 170 : 260));
  table_->setColumnWidth(1, lined_up ? 100 : 150);
  fit_model_b_columns(table_, int(headers.size()) - 2, lined_up);
  if (result.answers.empty()) {
    saliency()->clear();
    best_->setText(tr("No answer span found."));
    return;
  }
  table_->selectRow(0);
  showAnswer(0);
  if (result.windows.size() > 1)
    message()->showNotice(tr("The context was read in %1 overlapping windows of up to 384 tokens.").arg(result.windows.size()));
}

void QaPage::showAnswer(int rank) {
  if (!shown_ || rank < 0 || rank >= int(shown_->answers.size())) return;
  const QaAnswer& a = shown_->answers[size_t(rank)];
  explainAnswer(rank);
  best_->setText(tr("<b>%1</b> &nbsp; score %2").arg(QString::fromStdString(a.answer).toHtmlEscaped()).arg(a.score, 0, 'f', 4));
  if (context_->toPlainText() == shownContext_) {
    const CodePointIndex index(shownContext_);
    const int from = index.utf16(a.start), to = index.utf16(a.end);
    highlight_range(context_, from, to, QColor(255, 220, 80));
    QTextCursor cursor(context_->document());
    cursor.setPosition(from);
    context_->setTextCursor(cursor);
    context_->ensureCursorVisible();
  }
  // Start and end logits over the window holding this answer.
  const QaWindow& window = shown_->windows[size_t(a.window)];
  auto* chart = chartView_->chart();
  chart->removeAllSeries();
  for (auto* axis : chart->axes()) chart->removeAxis(axis);
  auto* start = new QLineSeries;
  start->setName(tr("start logit"));
  auto* end = new QLineSeries;
  end->setName(tr("end logit"));
  auto* chosen = new QScatterSeries;
  chosen->setName(tr("answer"));
  chosen->setMarkerSize(9);
  for (size_t t = 0; t < window.start_logits.size(); ++t) {
    start->append(double(t), window.start_logits[t]);
    end->append(double(t), window.end_logits[t]);
  }
  chosen->append(a.start_token, window.start_logits[size_t(a.start_token)]);
  chosen->append(a.end_token, window.end_logits[size_t(a.end_token)]);
  for (QXYSeries* series : {static_cast<QXYSeries*>(start), static_cast<QXYSeries*>(end), static_cast<QXYSeries*>(chosen)}) {
    chart->addSeries(series);
    connect(series, &QXYSeries::hovered, this, [this, window](const QPointF& point, bool state) {
      const int t = int(std::lround(point.x()));
      if (state && t >= 0 && t < int(window.encoding.size()))
        QToolTip::showText(QCursor::pos(), Qt::convertFromPlainText(tr("token %1: %2").arg(t).arg(QString::fromStdString(window.encoding.tokens[size_t(t)].text))));
    });
  }
  chart->createDefaultAxes();
  chart->axes(Qt::Horizontal).first()->setTitleText(tr("token in window %1").arg(a.window + 1));
  if (auto* x = qobject_cast<QValueAxis*>(chart->axes(Qt::Horizontal).first())) {
    // Token positions are whole numbers: ticks 1, 2 or 5 x 10^k apart from 0, at most about 8 of them (the default
    // five even ticks read 0.0 6.3 12.5 18.8 25.0).
    const double last = std::max<double>(1, double(window.start_logits.size()) - 1);
    double step = 1;
    for (int k = 0; last / step > 8; ++k) step *= k % 3 == 1 ? 2.5 : 2;  // 1, 2, 5, 10, 20, 50, ...
    x->setTickType(QValueAxis::TicksDynamic);
    x->setTickAnchor(0);
    x->setTickInterval(step);
    x->setLabelFormat(QStringLiteral("%d"));
    x->setRange(0, last);
  }
  if (auto* y = qobject_cast<QValueAxis*>(chart->axes(Qt::Vertical).first())) {  // room for the answer's markers
    const double pad = std::max(1e-3, (y->max() - y->min()) * 0.08);
    y->setRange(y->min() - pad, y->max() + pad);
  }
  chart->setTitle(tr("Where the answer starts and ends"));
}

void QaPage::explainAnswer(int rank) {
  if (!shown_ || rank < 0 || rank >= int(shown_->answers.size())) return;
  const int side = side_->currentIndex();  // 0 start, 1 end: the QA head's logit, as ExplainTarget::index
  if (shown_ == explainedResult_ && rank == explainedRank_ && side == explainedSide_) return;  // asked already
  explainedResult_ = shown_;
  explainedRank_ = rank;
  explainedSide_ = side;
  const QaAnswer& a = shown_->answers[size_t(rank)];
  ExplainRequest request{ExplainTask::QuestionAnswering, question_->text(), shownContext_};
  request.encoding = shown_->windows[size_t(a.window)].encoding;  // the window the answer is in, as the model read it
  request.position = side == 0 ? a.start_token : a.end_token;
  request.index = side;
  saliency()->explain(request);
}

}  // namespace bertscope::gui
