#include "task_page.h"

#include <QTimer>

#include "busy_overlay.h"
#include "page_support.h"
#include "saliency_panel.h"

namespace bertscope::gui {

TaskPage::TaskPage(EngineClient* engine, Job job, int debounceMs, QWidget* parent)
    : QWidget(parent), engine_(engine), job_(job) {
  message_ = new MessageLine(this);
  debounce_ = make_debounce(this, debounceMs, [this] { refresh(); });
  busyDelay_ = new QTimer(this);
  busyDelay_->setSingleShot(true);
  busyDelay_->setInterval(kBusyDelayMs);
  connect(busyDelay_, &QTimer::timeout, this, [this] {
    if (overlay_ && waiting_) overlay_->setBusy(true);
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job != job_ || !accept(id)) return;
    showFailure(error);
  });
}

bool TaskPage::showsBusy() const { return overlay_ && overlay_->busy(); }

void TaskPage::scheduleRefresh() { debounce_->start(); }

void TaskPage::cancelScheduledRefresh() { debounce_->stop(); }

void TaskPage::track(quint64 id) {
  latest_ = id;
  setWaiting(id != 0);
}

void TaskPage::dropRequests() {
  track(0);
  if (saliency_) saliency_->clear();
}

void TaskPage::setInputsUsable(std::initializer_list<QWidget*> inputs, bool usable) {
  for (QWidget* input : inputs) input->setEnabled(usable);
  if (saliency_) saliency_->setEnabled(usable);
}

SaliencyPanel* TaskPage::addSaliency(ExplainTask task) {
  saliency_ = new SaliencyPanel(engine_, task, message_, this);
  return saliency_;
}

bool TaskPage::accept(quint64 id) {
  if (id == 0 || id != latest_) return false;  // an older request's reply: its input has changed since
  setWaiting(false);
  return true;
}

void TaskPage::setWaiting(bool waiting) {
  waiting_ = waiting;
  if (waiting) {
    // A result already greyed stays greyed; otherwise the spinner waits kBusyDelayMs, so fast replies never flash.
    if (!showsBusy()) busyDelay_->start();
  } else {
    busyDelay_->stop();
    if (overlay_) overlay_->setBusy(false);
  }
}

QWidget* TaskPage::wrapResults(QWidget* results) { return BusyOverlay::wrap(results, &overlay_); }

void TaskPage::showFailure(const QString& error) { message_->showError(error); }

}  // namespace bertscope::gui
