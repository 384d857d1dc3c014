#pragma once
// The fine-tune view's "try it" for question answering: a question and a context, and the answer (text, score,
// character span) of the fine-tuned model next to that of the model as it started.
#include <QWidget>

#include "training_job.h"

class QLineEdit;
class QPlainTextEdit;

namespace bertscope::gui {

class ResultTableModel;

class QaTryPanel : public QWidget {
  Q_OBJECT
 public:
  explicit QaTryPanel(QWidget* parent = nullptr);
  void setQuestion(const QString& question, const QString& context);  // and ask (asked()) at once
  QString question() const;
  QString context() const;
  void showAnswers(const TriedAnswer& after, const TriedAnswer& before);
  void clear();
  // Rows "Fine-tuned" and "Before training"; columns model, answer, score, span (code points, as the pipeline's).
  ResultTableModel* answers() const { return answers_; }

 signals:
  void asked(const QString& question, const QString& context);  // both typed in, after a short pause

 private:
  void ask();

  QLineEdit* question_;
  QPlainTextEdit* context_;
  ResultTableModel* answers_;
};

}  // namespace bertscope::gui
