#pragma once
// Export training script, from the Fine-tune view: the job set up there (task, model, data files, columns, label
// names, hyper-parameters and seed) as the engine's TrainingJob, the one `bertscope-cli train --export-script` builds,
// for training_script() to write as a Python script for Hugging Face's Trainer (train/training_script.h).
// Kept out of fine_tune_page.h: its TrainingJob (the engine's job description) and the view's TrainingJob (the run
// on a thread) share a name.
#include <QString>
#include <optional>

#include "train/training_script.h"

namespace bertscope::gui {

class FineTunePage;

class FineTuneScript {
 public:
  // The job `page` has set up, its local paths absolute; nothing, with `error` saying what is missing (a model, a
  // training file, label names, ...), when it is not complete.
  static std::optional<bertscope::TrainingJob> job(const FineTunePage& page, QString& error);
};

}  // namespace bertscope::gui
