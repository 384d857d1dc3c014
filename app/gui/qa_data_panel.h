#pragma once
// The fine-tune view's data for question answering: a training file of SQuAD questions (SQuAD v1.1 / v2.0 JSON, or
// JSON lines as Hugging Face datasets write them), optionally a validation file (else a share of the training
// paragraphs is held out with all their questions, as `bertscope-cli train --task qa --validation 0.2` does), the
// counts (questions, paragraphs, unanswerable) and the entries the reader skipped, by id.
#include <QWidget>
#include <optional>

#include "data/squad.h"
#include "tasks/tasks.h"

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace bertscope::gui {

// run_qa's windows and answer rules, as `bertscope-cli train --task qa` uses them, in windows of `window` tokens:
// neighbours share 128 tokens (a third of the window when 128 is half of it or more), answers of at most 30 tokens
// from the 20 best start and end logits.
QaOptions qa_training_options(int window);

class QaDataPanel : public QWidget {
  Q_OBJECT
 public:
  explicit QaDataPanel(QWidget* parent = nullptr);
  // Each returns false, with the reason in failed(), when the file cannot be read; an empty validation path means
  // "hold out a share of the training paragraphs".
  bool loadTraining(const QString& path);
  bool loadValidation(const QString& path);
  bool hasData() const { return train_.has_value(); }
  QString trainingPath() const;
  QString validationPath() const;  // empty: the validation share is held out
  QString summary() const;
  QPlainTextEdit* skippedEntries() const { return skipped_; }  // "id: why" per skipped entry; hidden when none

  // The run's questions: the validation file's, else `share` of the training paragraphs (seeded). SQuAD v2.0 rules
  // (validation.has_unanswerable) when either side has unanswerable questions. False with `error` set when no
  // training question is left.
  bool split(double share, std::uint32_t seed, QaData& train, QaData& validation, QString& error) const;
  void setEditable(bool editable);  // off while a run trains on this data

 signals:
  void failed(const QString& error);
  void changed();  // new data (or none)

 private:
  void showData();

  QLineEdit *trainPath_, *validationPath_;
  QPushButton *chooseTrain_, *chooseValidation_, *clearValidation_;
  QLabel* summary_;
  QPlainTextEdit* skipped_;
  std::optional<QaData> train_, validation_;
};

}  // namespace bertscope::gui
