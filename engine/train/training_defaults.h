#pragma once
// The fine-tuning defaults, fitted to the model: one rule that the CLI (bertscope-cli train) and the GUI (the
// Fine-tune view) both take their starting epochs, learning rate, batch size, warm-up and weight decay from, so that
// the same model gets the same run from either. What the user sets explicitly always wins; these fill the rest.
#include <cstdint>
#include <string>

#include "model/config.h"
#include "train/bert_trainer.h"

namespace bertscope {

// What the rule looks at.
struct ModelShape {
  std::int64_t parameters = 0;  // all of the checkpoint's (shown in the message)
  int hidden = 0, layers = 0;
  bool untrained = false;       // random weights (bertscope's placeholder model): nothing pre-trained to keep
  bool pretrained_head = false; // the checkpoint already has this task's head (e.g. a fine-tuned model trained on)
};

struct TrainingDefaults {
  int epochs = 3;
  float learning_rate = 5e-5f;
  int batch_size = 16;
  float warmup_ratio = 0.1f;
  float weight_decay = 0.01f;
  std::string why;  // the rule's reason, one clause (e.g. "small BERTs need larger rates: Google's BERT miniatures")
};

// The rule (see the comment in training_defaults.cpp).
TrainingDefaults training_defaults(const ModelShape& model);

// True when `config`'s checkpoint class already carries the head `head` trains (a *ForSequenceClassification model
// for sequence classification, ...). The trainer's own answer (BertTrainer::head_is_new) also compares the labels;
// this one serves where no trainer is built yet (the GUI's spin boxes, --export-script).
bool checkpoint_has_head(const ModelConfig& config, TrainHead head);

// "4.8M", "110M", "36K": a parameter count as people write it.
std::string parameter_count_text(std::int64_t parameters);
// "1e-4", "5e-5", "2.5e-5": a learning rate as papers write it.
std::string learning_rate_text(double rate);
// "a 4.8M-parameter model (4 layers x 256 hidden, new head): 5 epochs, lr 1e-4, batch 16, warm-up 10%; <why>".
std::string describe_defaults(const ModelShape& model, const TrainingDefaults& defaults);

}  // namespace bertscope
