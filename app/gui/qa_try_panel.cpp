#include "qa_try_panel.h"

#include <QHeaderView>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSignalBlocker>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "item_models.h"
#include "page_support.h"

namespace bertscope::gui {

QaTryPanel::QaTryPanel(QWidget* parent) : QWidget(parent) {
  question_ = new QLineEdit(this);
  question_->setObjectName(QStringLiteral("tryQuestion"));
  question_->setPlaceholderText(tr("Ask a question about the context below"));
  context_ = new QPlainTextEdit(this);
  context_->setObjectName(QStringLiteral("tryContext"));
  context_->setPlaceholderText(tr("The context: a paragraph that holds the answer"));
  context_->setMaximumHeight(70);
  answers_ = new ResultTableModel({tr("Model"), tr("Answer"), tr("Score"), tr("Span")}, 2, this);
  auto* table = new QTableView(this);
  table->setModel(answers_);
  table->setItemDelegateForColumn(2, new ProbabilityDelegate(table));
  table->verticalHeader()->hide();
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
  table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 8);
  table->setMinimumHeight(60);
  table->setToolTip(tr("The best answer of each model: the context's text, p(start) × p(end) in its window, and "
                       "its character span in the context."));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(question_);
  layout->addWidget(context_);
  layout->addWidget(table, 1);

  auto* debounce = make_debounce(this, 300, [this] { ask(); });
  connect(question_, &QLineEdit::textChanged, debounce, qOverload<>(&QTimer::start));
  connect(context_, &QPlainTextEdit::textChanged, debounce, qOverload<>(&QTimer::start));
}

void QaTryPanel::setQuestion(const QString& question, const QString& context) {
  {
    const QSignalBlocker quiet(question_), quietContext(context_);  // no second request through the debounce
    question_->setText(question);
    context_->setPlainText(context);
  }
  ask();
}

QString QaTryPanel::question() const { return question_->text(); }
QString QaTryPanel::context() const { return context_->toPlainText(); }

void QaTryPanel::ask() {
  if (question().trimmed().isEmpty() || context().trimmed().isEmpty()) return;
  emit asked(question(), context());
}

void QaTryPanel::showAnswers(const TriedAnswer& after, const TriedAnswer& before) {
  QVector<QVector<QVariant>> rows;
  for (const auto& [name, a] : {std::pair{tr("Fine-tuned"), &after}, {tr("Before training"), &before}}) {
    if (a->found) rows.push_back({name, a->text, a->score, tr("%1–%2").arg(a->start).arg(a->end)});
    else rows.push_back({name, tr("(no answer)"), 0.0, QString()});
  }
  answers_->setRows(rows);
}

void QaTryPanel::clear() { answers_->clear(); }

}  // namespace bertscope::gui
