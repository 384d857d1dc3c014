#pragma once
// SaliencyPanel: a task view's "why" strip, shared by the task pages (TaskPage::addSaliency). A switch (off,
// gradient × input, integrated gradients with its steps), a line naming the output explained (for integrated
// gradients with its completeness error), and the input's tokens as a heat strip, each chip coloured by the
// token's attribution to that output. It asks the engine on the worker thread as the pages do: only the latest
// request's reply shows, and while off it asks nothing. Its page gives it each input it sends (explain) and the
// output the user picks (setTarget); errors go to the page's message line. While comparing (model_compare.h), model
// B's strip shows below A's: chip for chip when B reads the same tokens, else on its own with a notice.
#include <QWidget>

#include "engine_client.h"

class QComboBox;
class QHBoxLayout;
class QLabel;
class QSpinBox;

namespace bertscope::gui {

class MessageLine;
class TokenStrip;

class SaliencyPanel : public QWidget {
  Q_OBJECT
 public:
  enum Method { Off, GradientInput, IntegratedGradients };  // the switch's entries, in order
  static constexpr int kDefaultSteps = 32;                  // as bertscope-cli explain's --steps

  SaliencyPanel(EngineClient* engine, ExplainTask task, MessageLine* message, QWidget* parent = nullptr);

  // The input to explain from now on, and its output (position, index, offset; -1: the model's top choice, as
  // resolve_target picks it). Asks now unless off; the method and steps are the switch's.
  void explain(const ExplainRequest& request);
  // The output the user picked for the current input (ExplainRequest's fields); asks again.
  void setTarget(int position, int index, int offset = -1);
  void clear();  // no input (an empty text, a model that cannot run the page's task): nothing shown or asked

  void setMethod(Method method);
  Method method() const;
  void setSteps(int steps);
  int steps() const;
  void addControl(QWidget* control);  // a page's own choice after the switch (QA: the answer's start or end)

  // Why the loaded model cannot be explained for this task (it lacks the head); empty when it can.
  QString missingHead() const;

  // For tests and screenshots.
  QComboBox* methodChoice() const { return method_; }
  QSpinBox* stepsChoice() const { return steps_; }
  TokenStrip* strip() const { return strip_; }
  QString summary() const;
  const Ptr<SaliencyReply>& shown() const { return shown_; }  // null while nothing is shown
  TokenStrip* stripB() const { return stripB_; }
  QString summaryB() const;
  const Ptr<SaliencyReply>& shownB() const { return shownB_; }  // model B's, null while not shown
  const ExplainRequest& request() const { return request_; }
  bool waiting() const { return latest_ != 0; }

 private:
  void ask();
  void show(const Ptr<SaliencyReply>& reply);
  void showNothing(const QString& why = {});
  void showB(const ModelBAnswer* b);  // null: none (not comparing, or nothing shown)
  // Paints `reply`'s scores on `strip` and says what they explain on `summary`.
  void paint(const SaliencyReply& reply, TokenStrip* strip, QLabel* summary, const QString& prefix);

  EngineClient* engine_;
  ExplainTask task_;
  MessageLine* message_;
  QComboBox* method_;
  QSpinBox* steps_;
  QHBoxLayout* controls_;
  QLabel* summary_;
  TokenStrip* strip_;
  ExplainRequest request_;  // the current input and output
  bool hasInput_ = false;
  quint64 latest_ = 0;      // the request whose reply counts; 0: none out
  Ptr<SaliencyReply> shown_;
  QLabel* summaryB_;
  TokenStrip* stripB_;
  Ptr<SaliencyReply> shownB_;
};

}  // namespace bertscope::gui
