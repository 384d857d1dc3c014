#include "fine_tune_script.h"

#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QSpinBox>
#include <algorithm>

#include "core/safe_files.h"
#include "csv_data_panel.h"
#include "fine_tune_page.h"
#include "hub/protocol.h"
#include "page_support.h"
#include "qa_data_panel.h"
#include "tagged_data_panel.h"
#include "text_data_panel.h"
#include "train/training_defaults.h"

namespace bertscope::gui {

namespace {
std::string absolute(const QString& path) { return QDir::cleanPath(QFileInfo(path).absoluteFilePath()).toStdString(); }

// A model from the Hub's cache (<cache>/models--ORG--NAME/snapshots/<commit>) is named by its id and that commit, so
// the script loads the very same weights on any machine; any other folder by its path.
void set_model(bertscope::TrainingJob& job, const std::filesystem::path& folder) {
  const std::filesystem::path snapshot = folder.lexically_normal();
  const std::filesystem::path parent = snapshot.parent_path();
  const auto id = hub::repo_id_from_folder(parent.parent_path().filename().string());
  if (parent.filename() == "snapshots" && id) {
    job.model = *id;
    job.revision = snapshot.filename().string();
  } else {
    job.model = absolute(QString::fromStdString(folder.string()));
  }
}
}  // namespace

std::optional<bertscope::TrainingJob> FineTuneScript::job(const FineTunePage& page, QString& error) {
  if (!page.model_) {
    error = FineTunePage::tr("no model is open; open the model the job starts from.");
    return std::nullopt;
  }
  bertscope::TrainingJob job;
  const FineTuneTask task = page.task();
  const double share = page.validation_->value();
  const auto seed = std::uint32_t(page.seed_->value());
  const int window = std::min(page.maxLength_->value(), page.model_->max_tokens);
  job.max_length = window;
  job.validation_share = share;
  if (task == FineTuneTask::SentenceClassification) {
    const LabelledData* data = page.csv_->data();
    const CsvTable* table = page.csv_->table();
    if (!data || !table || page.csv_->textColumn() < 0 || page.csv_->labelColumn() < 0) {
      error = FineTunePage::tr("the job has no training file yet; choose a CSV file of labelled sentences and its "
                               "text and label columns.");
      return std::nullopt;
    }
    const QStringList names = page.csv_->labelNamesChosen(&error);
    if (!error.isEmpty()) return std::nullopt;
    job.task = "classification";
    job.train_file = absolute(page.csv_->path());
    job.delimiter = std::string(1, table->delimiter);
    job.has_header = table->has_header;
    // The script finds a column by its header's name, or by its number (from 1) in a file without a header.
    auto column = [&](int index) {
      return table->has_header ? table->columns.at(size_t(index)) : std::to_string(index + 1);
    };
    job.text_column = column(page.csv_->textColumn());
    job.label_column = column(page.csv_->labelColumn());
    job.labels = data->labels;  // the values in the file, in id order
    std::vector<std::string> given;
    for (const QString& name : names) given.push_back(name.toStdString());
    if (given != job.labels) job.label_names = given;  // renamed: config.json's id2label gets these
  } else if (task == FineTuneTask::TokenClassification) {
    if (page.tagged_->trainingPath().isEmpty()) {
      error = FineTunePage::tr("the job has no training file yet; choose a CoNLL or JSON-lines file of tagged "
                               "sentences.");
      return std::nullopt;
    }
    std::vector<TaggedSentence> train, validation;
    if (!page.tagged_->split(share, seed, train, validation, job.labels, error)) return std::nullopt;  // run_ner's labels
    job.task = "ner";
    job.train_file = absolute(page.tagged_->trainingPath());
    if (!page.tagged_->validationPath().isEmpty()) {
      job.validation_file = absolute(page.tagged_->validationPath());
      job.validation_share = 0;
    }
  } else if (task == FineTuneTask::QuestionAnswering) {
    if (page.qa_->trainingPath().isEmpty()) {
      error = FineTunePage::tr("the job has no training file yet; choose a SQuAD JSON or JSON-lines file of questions.");
      return std::nullopt;
    }
    job.task = "qa";
    job.train_file = absolute(page.qa_->trainingPath());
    if (!page.qa_->validationPath().isEmpty()) {
      job.validation_file = absolute(page.qa_->validationPath());
      job.validation_share = 0;
    }
    const QaOptions qa = qa_training_options(window);  // the windows a run here would use
    job.max_length = qa.max_seq_len;
    job.doc_stride = qa.doc_stride;
  } else {
    if (page.text_->paths().isEmpty()) {
      error = FineTunePage::tr("the job has no training text yet; choose one or more text files (one paragraph a "
                               "line).");
      return std::nullopt;
    }
    if (!page.model_->mlm) {
      error = FineTunePage::tr("adapting to your text needs a model with its masked-language-model head; this one is "
                               "a %1.").arg(QString::fromStdString(page.model_->info.architecture));
      return std::nullopt;
    }
    job.task = "mlm";
    for (const QString& path : page.text_->paths()) job.text_files.push_back(absolute(path));
  }
  set_model(job, page.model_->info.folder);
  job.out = absolute(page.suggestedSaveFolder());
  job.epochs = page.epochs_->value();
  job.batch_size = page.batch_->value();
  job.learning_rate = page.learningRate_->value();
  const TrainingDefaults fitted = training_defaults({});  // warm-up and weight decay, as a run here uses them
  job.warmup_ratio = fitted.warmup_ratio;
  job.weight_decay = fitted.weight_decay;
  job.seed = seed;
  job.patience = task == FineTuneTask::MaskedLanguageModel ? 0 : page.patience_->value();  // off for masked LM here
  return job;
}

bool FineTunePage::exportScript(const QString& file) {
  QString error;
  const std::optional<bertscope::TrainingJob> job = FineTuneScript::job(*this, error);
  if (!job) {
    message_->showError(tr("No training script was written: %1").arg(error));
    return false;
  }
  try {
    write_file_atomically(file.toStdString(), training_script(*job));  // the Save dialog asked before replacing one
  } catch (const std::exception& e) {
    message_->showError(tr("Could not write the training script: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
  message_->showNotice(tr("Wrote %1: this %2 job for Hugging Face's Trainer. Run it with python3 %3 (or accelerate "
                          "launch) where transformers and datasets are installed.")
                           .arg(file, QString::fromStdString(job->task), QFileInfo(file).fileName()));
  return true;
}

}  // namespace bertscope::gui
