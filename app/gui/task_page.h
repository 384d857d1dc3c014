#pragma once
// TaskPage: what every engine-backed page shares. It owns
//   - the latest request's id: replies to older requests are dropped, so a result for outdated text never shows;
//   - the debounce timer: refresh() runs once typing pauses;
//   - the message line (errors and notices);
//   - the failure filter: failed() for this page's job and its latest request only;
//   - the busy indicator: while a new result computes, the old one is greyed with a spinner over it. It appears only
//     after kBusyDelayMs, so fast replies never make it flicker.
// A page sends a request with track(engine()->something(...)) and handles replies connected with onReply().
#include <QWidget>
#include <initializer_list>

#include "engine_client.h"

class QTimer;

namespace bertscope::gui {

class BusyOverlay;
class MessageLine;
class SaliencyPanel;

class TaskPage : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kBusyDelayMs = 150;

  virtual void refresh() = 0;  // asks the engine for the current input's result now

  MessageLine* message() const { return message_; }
  BusyOverlay* busyOverlay() const { return overlay_; }  // null for a page without results to grey
  bool waiting() const { return waiting_; }              // a request is out and its reply has not come
  bool showsBusy() const;                                // the results are greyed with the spinner
  quint64 latestRequest() const { return latest_; }
  SaliencyPanel* saliency() const { return saliency_; }  // null on a page without one

 public slots:
  void scheduleRefresh();  // (re)starts the debounce timer

 protected:
  TaskPage(EngineClient* engine, Job job, int debounceMs, QWidget* parent = nullptr);

  EngineClient* engine() const { return engine_; }
  void cancelScheduledRefresh();
  // Request `id` is the one whose reply counts from now on; the busy indicator follows it.
  void track(quint64 id);
  // No request counts any more (the input is empty, or the model cannot run this task).
  void dropRequests();
  // Greys `inputs` and the saliency panel while the model has no head for this page's task, so every such page
  // looks the same: what was typed stays, and comes back with a model that can run it.
  void setInputsUsable(std::initializer_list<QWidget*> inputs, bool usable);
  // Whether a reply to `id` should be shown: it is the latest request's. Ends the busy state when it is.
  bool accept(quint64 id);
  // `results` with this page's busy indicator over it; put the returned widget into the layout.
  QWidget* wrapResults(QWidget* results);
  // Adds the page's saliency panel for `task` (the switch and the heat strip; its errors on the message line); put
  // the returned widget into the layout. The page gives it each input it sends (saliency()->explain) and the output
  // the user picks (setTarget); dropRequests() clears it.
  SaliencyPanel* addSaliency(ExplainTask task);
  // The latest request failed: by default the message line shows the error.
  virtual void showFailure(const QString& error);

  // Connects an EngineClient reply signal: `show` runs for the latest request's reply only.
  template <typename Reply, typename Show>
  void onReply(void (EngineClient::*signal)(quint64, Ptr<Reply>), Show show) {
    connect(engine_, signal, this, [this, show](quint64 id, Ptr<Reply> reply) {
      if (accept(id)) show(reply);
    });
  }

 private:
  void setWaiting(bool waiting);

  EngineClient* engine_;
  Job job_;
  MessageLine* message_;
  QTimer* debounce_;
  QTimer* busyDelay_;
  BusyOverlay* overlay_ = nullptr;
  SaliencyPanel* saliency_ = nullptr;
  quint64 latest_ = 0;
  bool waiting_ = false;
};

}  // namespace bertscope::gui
