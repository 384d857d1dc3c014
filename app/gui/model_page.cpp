#include "model_page.h"

#include <QFormLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include "model_compare.h"
#include "page_support.h"

namespace bertscope::gui {

QString human_bytes(std::uint64_t bytes) {
  const double b = double(bytes);
  if (b >= 1e9) return QStringLiteral("%1 GB").arg(b / 1e9, 0, 'f', 2);
  if (b >= 1e6) return QStringLiteral("%1 MB").arg(b / 1e6, 0, 'f', 1);
  if (b >= 1e3) return QStringLiteral("%1 kB").arg(b / 1e3, 0, 'f', 1);
  return QStringLiteral("%1 B").arg(bytes);
}

QString human_count(std::int64_t count) {
  if (count >= 1000000) return QStringLiteral("%1 M").arg(double(count) / 1e6, 0, 'f', 1);
  if (count >= 1000) return QStringLiteral("%1 k").arg(double(count) / 1e3, 0, 'f', 1);
  return QString::number(count);
}

namespace {
// The family's role tokens, e.g. "<s> … </s>, mask <mask>", and whether it takes token type ids.
QString specialTokens(const LoadedModel& model) {
  QString text = QStringLiteral("%1 … %2").arg(model.cls_token, model.sep_token);
  if (!model.mask_token.isEmpty()) text += QObject::tr(", mask %1").arg(model.mask_token);
  if (!model.token_types) text += QObject::tr("; no token type ids");
  return text;
}
}  // namespace

ModelPage::ModelPage(QWidget* parent) : QWidget(parent) {
  warning_ = new QLabel(this);
  warning_->setWordWrap(true);
  warning_->setStyleSheet(QStringLiteral("background: #fff3cd; color: #664d03; padding: 8px; border-radius: 4px;"));
  warning_->hide();
  form_ = new QFormLayout;
  const char* names[] = {"Name", "Folder", "Architecture", "Model type", "Heads", "Special tokens", "Layers",
                         "Hidden size", "Attention heads", "Intermediate size", "Vocabulary", "Max tokens", "Parameters",
                         "Weights on disk", "Weight type", "Runs on", "Note", "Load time"};
  for (const char* name : names) {
    auto* value = new QLabel(this);
    value->setTextFormat(Qt::PlainText);  // RoBERTa's "<s>" is a token, not strike-through markup
    value->setTextInteractionFlags(Qt::TextSelectableByMouse);
    value->setWordWrap(true);
    form_->addRow(tr(name) + QLatin1Char(':'), value);
    fields_.emplace_back(QString::fromLatin1(name), value);
  }
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(warning_);
  layout->addLayout(form_);
  layout->addStretch(1);
}

QString ModelPage::field(const QString& name) const {
  for (const auto& [n, label] : fields_)
    if (n == name) return label->text();
  return {};
}

void ModelPage::setModel(const Ptr<LoadedModel>& model) {
  auto set = [this](const char* name, const QString& value) {
    for (auto& [n, label] : fields_)
      if (n == QLatin1String(name)) {
        label->setText(value);
        form_->setRowVisible(label, !value.isEmpty());
      }
  };
  if (!model) {
    for (auto& [n, label] : fields_) label->clear();
    warning_->hide();
    return;
  }
  const ModelInfo& i = model->info;
  set("Name", model_name(*model));
  set("Folder", QString::fromStdString(i.folder.string()));
  set("Architecture", QString::fromStdString(i.architecture));
  set("Model type", QString::fromStdString(i.model_type));
  set("Heads", QString::fromStdString(i.heads));
  set("Special tokens", specialTokens(*model));
  set("Layers", QString::number(i.layers));
  set("Hidden size", QString::number(i.hidden));
  set("Attention heads", QString::number(i.attention_heads));
  set("Intermediate size", QString::number(i.intermediate));
  set("Vocabulary", counted(i.vocab, tr("token"), tr("tokens")));  // the user's digit grouping: 30,522 or 30.522
  set("Max tokens", QString::number(model->max_tokens));  // RoBERTa has 514 positions but takes 512 tokens
  set("Parameters", tr("%1 (%2)").arg(human_count(i.parameters), QLocale().toString(qlonglong(i.parameters))));
  set("Weights on disk", human_bytes(i.file_bytes));
  set("Weight type", QString::fromStdString(i.dtype));
  set("Runs on", QString::fromStdString(i.backend));
  set("Note", as_sentence(QString::fromStdString(i.backend_note)));
  set("Load time", tr("%1 ms").arg(i.load_ms, 0, 'f', 0));
  warning_->setVisible(i.untrained);
  warning_->setText(tr("This model is untrained: its weights are random, so its predictions are noise. Open a "
                       "trained Hugging Face BERT, DistilBERT or RoBERTa folder to see real predictions."));
}

}  // namespace bertscope::gui
