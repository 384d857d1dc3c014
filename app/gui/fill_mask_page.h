#pragma once
// Masked-word playground: a sentence with the model's mask token ([MASK], RoBERTa's <mask>); the top-k words for
// each mask, with probability bars, update as you type. The chips always show the current text's tokens: click a
// word to mask it, click a mask to put back the word it replaced; click a prediction to put it into the sentence.
// After the Fine-tune view adapted a model to the user's text (masked LM), a second table puts the adapted model's
// words beside those of the model it started from, for the same sentence.
#include <QPointer>

#include "task_page.h"

class QLabel;
class QLineEdit;
class QSpinBox;
class QTableView;

namespace bertscope::gui {

class AblationBanner;
class CompareBanner;
class ResultTableModel;
class TokenStrip;
class TrainingJob;
struct MaskGuesses;

// The example sentence for a model whose mask token is `mask` ("The [MASK] sat on the mat.").
QString sampleSentence(const QString& mask);

class FillMaskPage : public TaskPage {
  Q_OBJECT
 public:
  FillMaskPage(EngineClient* engine, QWidget* parent = nullptr);
  void setModel(const Ptr<LoadedModel>& model);  // enables the page, or explains why it cannot run
  void setText(const QString& text);
  QString text() const;
  void refresh() override;

  void maskToken(int token);                  // masks the word holding `token`; on a mask, restores its word
  void applyPrediction(int mask, int rank);   // fills mask number `mask` (0-based) with its prediction `rank`
  void explainPrediction(int mask, int rank); // the saliency strip explains that prediction
  QString maskText() const { return mask_; }  // the model's mask token, "[MASK]" or "<mask>"
  // The Fine-tune view's job: once a "Masked LM on my text" run has an adapted model, the second table shows it
  // beside the model it started from.
  void showAdaptationOf(TrainingJob* job);
  // Mask, adapted model's word, its probability, the word before adapting, its probability.
  ResultTableModel* adaptedComparison() const { return adapted_; }
  QWidget* adaptedBox() const { return adaptedBox_; }  // hidden until a run has an adapted model

  // For tests and screenshots.
  ResultTableModel* predictions() const { return predictions_; }
  TokenStrip* strip() const { return strip_; }
  AblationBanner* ablationBanner() const { return ablationBanner_; }  // "N heads switched off", while any are
  CompareBanner* compareBanner() const { return compareBanner_; }     // both models' names, while comparing
  // The Sentence column's inserted word in row `row`: its UTF-16 range [from, to) in that row's sentence.
  std::pair<int, int> insertedRange(int row) const;

 signals:
  void answerShown();  // an answer is in the table (`bertscope --time-to-first-answer` waits for the first)

 private:
  void showResult(const FillMaskReply& reply);
  void showFailure(const QString& error) override;
  void showMaskHints();  // placeholder, hint and notice name the model's mask token
  void askAdapted();     // the adapted model and the one it started from, on the current text
  void showAdapted(const MaskGuesses& after, const MaskGuesses& before);
  // The shown text with mask `mask` filled by its prediction `rank`, and where the inserted word is in it.
  struct Filled {
    QString text;
    int from = 0, to = 0;
  };
  Filled filled(int mask, int rank) const;
  void trackEdit(const QString& before, const QString& after);  // keeps masked_ in step with the text

  QLineEdit* text_;
  QSpinBox* topK_;
  TokenStrip* strip_;
  QTableView* table_;
  ResultTableModel* predictions_;
  bool usable_ = false;
  QString requestedText_;
  QString shownText_;                  // the text the shown result's offsets point into
  Ptr<FillMaskReply> shown_;
  QString mask_ = QStringLiteral("[MASK]");
  // Words replaced by a mask through a click, so that clicking the mask puts them back: the mask's UTF-16 position
  // in the text, and the word.
  struct MaskedWord {
    int at = 0;
    QString word;
  };
  std::vector<MaskedWord> masked_;
  QString lastText_;                                 // the text before the latest edit (for trackEdit)
  std::vector<std::pair<int, int>> inserted_;        // per prediction row: the inserted word in its sentence
  QLabel* hint_;
  AblationBanner* ablationBanner_;
  QPointer<TrainingJob> adaptation_;
  QWidget* adaptedBox_;
  QLabel* adaptedNote_;
  ResultTableModel* adapted_;
  quint64 adaptedId_ = 0;
  CompareBanner* compareBanner_;
};

}  // namespace bertscope::gui
