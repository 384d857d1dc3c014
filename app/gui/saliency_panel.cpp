#include "saliency_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>
#include <cmath>

#include "item_models.h"
#include "model_compare.h"
#include "page_support.h"
#include "token_strip.h"

namespace bertscope::gui {

SaliencyPanel::SaliencyPanel(EngineClient* engine, ExplainTask task, MessageLine* message, QWidget* parent)
    : QWidget(parent), engine_(engine), task_(task), message_(message) {
  request_.task = task;
  method_ = new QComboBox(this);
  method_->addItem(tr("Off"));
  method_->addItem(tr("Gradient × input"));
  method_->addItem(tr("Integrated gradients"));
  method_->setItemData(GradientInput, tr("One forward and backward pass: per token, the size (L2 norm) of gradient × "
                                         "embedding. Fast; always positive."), Qt::ToolTipRole);
  method_->setItemData(IntegratedGradients, tr("The gradient summed along a path from a baseline (zero word "
                                               "embeddings) to the input, in steps: signed attributions that add up "
                                               "to the output's change, up to the completeness error shown."), Qt::ToolTipRole);
  method_->setToolTip(tr("Saliency: how much each input token counts for the chosen output"));
  steps_ = new QSpinBox(this);
  steps_->setRange(1, 1000);
  steps_->setValue(kDefaultSteps);
  steps_->setPrefix(tr("steps "));
  steps_->setToolTip(tr("Integrated gradients' interpolation points: more steps, a smaller completeness error, slower"));
  steps_->hide();
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setTextFormat(Qt::PlainText);  // it names tokens such as <mask>
  summary_->setStyleSheet(QStringLiteral("color: #555;"));
  strip_ = new TokenStrip(this);
  strip_->setShowIds(false);
  strip_->setShowTypes(false);
  strip_->hide();
  summaryB_ = new QLabel(this);
  summaryB_->setWordWrap(true);
  summaryB_->setTextFormat(Qt::PlainText);
  summaryB_->setStyleSheet(QStringLiteral("color: #0b3a6f;"));  // the compare banner's blue
  summaryB_->hide();
  stripB_ = new TokenStrip(this);
  stripB_->setObjectName(QStringLiteral("saliencyStripB"));
  stripB_->setShowIds(false);
  stripB_->setShowTypes(false);
  stripB_->hide();

  controls_ = new QHBoxLayout;
  controls_->setContentsMargins(0, 0, 0, 0);
  controls_->addWidget(new QLabel(tr("Saliency:"), this));
  controls_->addWidget(method_);
  controls_->addWidget(steps_);
  controls_->addWidget(summary_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(controls_);
  layout->addWidget(strip_);
  layout->addWidget(summaryB_);
  layout->addWidget(stripB_);

  connect(method_, &QComboBox::currentIndexChanged, this, [this] {
    steps_->setVisible(method() == IntegratedGradients);
    if (method() != Off && engine_->model() && !missingHead().isEmpty()) message_->showNotice(missingHead());
    ask();
  });
  connect(steps_, &QSpinBox::valueChanged, this, [this] {
    if (method() == IntegratedGradients) ask();
  });
  connect(engine_, &EngineClient::explained, this, [this](quint64 id, Ptr<SaliencyReply> reply) {
    if (id == 0 || id != latest_) return;  // an older request's: its input or output has changed since
    latest_ = 0;
    show(reply);
    showB(engine_->comparison(Job::Explain, id));
  });
  connect(engine_, &EngineClient::compareChanged, this, [this] {
    showB(nullptr);
    if (shown_) ask();  // model B's strip comes with the next reply, or no more
  });
  connect(engine_, &EngineClient::failed, this, [this](quint64 id, Job job, const QString& error) {
    if (job != Job::Explain || id == 0 || id != latest_) return;
    latest_ = 0;
    showNothing();
    // The page's own error (e.g. every mask cut off a long text) says more than the saliency's echo of it.
    if (!message_->isError()) message_->showError(tr("Saliency: %1").arg(error));
  });
}

SaliencyPanel::Method SaliencyPanel::method() const { return Method(method_->currentIndex()); }

void SaliencyPanel::setMethod(Method method) { method_->setCurrentIndex(int(method)); }

int SaliencyPanel::steps() const { return steps_->value(); }

void SaliencyPanel::setSteps(int steps) { steps_->setValue(steps); }

void SaliencyPanel::addControl(QWidget* control) { controls_->insertWidget(controls_->indexOf(summary_), control); }

QString SaliencyPanel::summary() const { return summary_->text(); }

QString SaliencyPanel::summaryB() const { return summaryB_->isHidden() ? QString() : summaryB_->text(); }

QString SaliencyPanel::missingHead() const {
  const Ptr<LoadedModel>& model = engine_->model();
  if (!model) return {};
  const QString kind = QString::fromStdString(model->info.architecture);
  switch (task_) {
    case ExplainTask::FillMask:
      if (model->mlm) return {};
      return tr("This model has no masked-language-model head (it is a %1): there is no predicted word to explain.").arg(kind);
    case ExplainTask::Classify:
      if (model->classifier) return {};
      return tr("This model has no sequence-classification head (it is a %1): there is no label to explain "
                "(next-sentence prediction is not explained).").arg(kind);
    case ExplainTask::QuestionAnswering:
      if (model->qa) return {};
      return tr("This model has no question-answering head (it is a %1): there is no answer to explain.").arg(kind);
    case ExplainTask::TokenClassification:
      if (model->token_classifier) return {};
      return tr("This model has no token-classification head (it is a %1): there is no entity to explain.").arg(kind);
  }
  return {};
}

void SaliencyPanel::explain(const ExplainRequest& request) {
  request_ = request;
  request_.task = task_;
  hasInput_ = true;
  ask();
}

void SaliencyPanel::setTarget(int position, int index, int offset) {
  if (!hasInput_) return;
  request_.position = position;
  request_.index = index;
  request_.offset = offset;
  ask();
}

void SaliencyPanel::clear() {
  hasInput_ = false;
  ask();
}

void SaliencyPanel::ask() {
  latest_ = 0;  // whatever is out no longer counts
  if (method() == Off) return showNothing();  // off computes nothing
  const QString why = missingHead();
  if (!why.isEmpty()) return showNothing(why);
  if (!hasInput_) return showNothing();
  ExplainRequest request = request_;
  request.options.method = method() == IntegratedGradients ? SaliencyMethod::IntegratedGradients : SaliencyMethod::GradientInput;
  request.options.steps = steps();
  latest_ = engine_->explain(request);
  if (!shown_) summary_->setText(tr("Computing…"));  // a shown strip stays until its successor comes
}

void SaliencyPanel::showNothing(const QString& why) {
  shown_.reset();
  strip_->setEncoding({});
  strip_->hide();
  summary_->setText(why);
  showB(nullptr);
}

void SaliencyPanel::show(const Ptr<SaliencyReply>& reply) {
  shown_ = reply;
  paint(*reply, strip_, summary_, QString());
}

void SaliencyPanel::showB(const ModelBAnswer* b) {
  shownB_ = b ? b->saliency : nullptr;
  stripB_->setEncoding({});
  stripB_->hide();
  summaryB_->setVisible(b != nullptr);
  if (!b) return;
  const QString name = model_name(*engine_->modelB());
  if (!b->problem.isEmpty() || !shownB_) {
    summaryB_->setText(tr("Model B (%1): %2").arg(name, b->problem.isEmpty() ? tr("no saliency") : b->problem));
    return;
  }
  // One vocabulary and the same tokens: B's chips sit under A's, token for token. Otherwise B's own tokens.
  const QString notice = b->aligned ? QString()
                         : engine_->sameVocabulary() ? tr(" Model B reads this text as other tokens, so its strip is not lined up with A's.")
                                                     : tr(" The two models' vocabularies differ, so their tokens do not line up.");
  paint(*shownB_, stripB_, summaryB_, tr("Model B (%1): ").arg(name));
  summaryB_->setText(summaryB_->text() + notice);
}

void SaliencyPanel::paint(const SaliencyReply& reply, TokenStrip* strip, QLabel* summary, const QString& prefix) {
  const Saliency& s = reply.saliency;
  // Colours relative to the largest attribution, so the strip reads the same for any output's scale.
  double largest = 0, sum = 0;
  for (float v : s.scores) {
    largest = std::max(largest, double(std::abs(v)));
    sum += v;
  }
  std::vector<float> heat;
  std::vector<QString> notes;
  for (size_t t = 0; t < s.scores.size(); ++t) {
    heat.push_back(largest > 0 ? float(s.scores[t] / largest) : 0.0f);
    notes.push_back(tr("attribution %1 (L2 norm %2)").arg(s.scores[t], 0, 'g', 4).arg(s.norms[t], 0, 'g', 4));
  }
  strip->setEncoding(reply.encoding.encoding, reply.encoding.continues);
  strip->setHeat(heat, notes);
  strip->show();
  QString text = prefix + tr("Explaining %1: logit %2, probability %3.")
                              .arg(reply.target_text).arg(reply.score.logit, 0, 'f', 3).arg(percent(reply.score.probability));
  if (reply.method == SaliencyMethod::IntegratedGradients)
    text += tr(" Red raises the logit, blue lowers it. Completeness error %1: the attributions add up to %2, the logit "
               "minus the baseline's is %3 (%4 steps).")
                .arg(s.completeness_error, 0, 'g', 3).arg(sum, 0, 'f', 3).arg(s.logit - s.baseline_logit, 0, 'f', 3).arg(s.steps);
  else
    text += tr(" The redder, the more the token counts.");
  summary->setText(text);
}

}  // namespace bertscope::gui
