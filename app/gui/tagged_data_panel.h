#pragma once
// The fine-tune view's data for token classification (named entities, parts of speech): a training file of
// word-tagged sentences (CoNLL: a word per line, its tag in the last column; or JSON lines with "tokens" and
// "ner_tags"), optionally a validation file (else a share of the training sentences is held out, as
// `bertscope-cli train --task ner --validation 0.2` does), a summary, and the tags with their word counts.
#include <QWidget>
#include <optional>

#include "data/tagged.h"

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace bertscope::gui {

class TaggedDataPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TaggedDataPanel(QWidget* parent = nullptr);
  // Each returns false, with the reason in failed(), when the file cannot be read; an empty validation path means
  // "hold out a share of the training sentences".
  bool loadTraining(const QString& path);
  bool loadValidation(const QString& path);
  bool hasData() const { return train_.has_value(); }
  QString trainingPath() const;
  QString validationPath() const;  // empty: the validation share is held out
  QString summary() const;
  QTableWidget* tags() const { return tags_; }

  // The run's sentences: the validation file's, else `share` of the training sentences (seeded shuffle), and the
  // label list (the training tags, sorted as run_ner sorts them). False with `error` set when the data cannot train
  // a tagger (fewer than two tags, a validation tag never seen in training, no training sentence left).
  bool split(double share, std::uint32_t seed, std::vector<TaggedSentence>& train, std::vector<TaggedSentence>& validation,
             std::vector<std::string>& labels, QString& error) const;
  void setEditable(bool editable);  // off while a run trains on this data

 signals:
  void failed(const QString& error);
  void changed();  // new data (or none)

 private:
  void showData();

  QLineEdit *trainPath_, *validationPath_;
  QPushButton *chooseTrain_, *chooseValidation_, *clearValidation_;
  QLabel* summary_;
  QTableWidget* tags_;
  void warnOfUnknownValidationTags();
  std::optional<TaggedData> train_, validation_;
};

}  // namespace bertscope::gui
