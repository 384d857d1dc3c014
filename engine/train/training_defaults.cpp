#include "train/training_defaults.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "model/architecture.h"

namespace bertscope {

// The rule. BERT's paper fine-tunes BERT-base and -large for 2 to 4 epochs at 2e-5 to 5e-5, batch 16 or 32, with
// 10% linear warm-up and weight decay 0.01; Hugging Face's Trainer defaults to 5e-5 for 3 epochs. Smaller models need
// larger steps: for Google's BERT miniatures (2 to 12 layers, 128 to 768 hidden) the best fine-tuning rate was among
// 3e-4, 1e-4, 5e-5 and 3e-5, over 4 epochs, the smallest models at the top of that range. Measured here (README,
// sentiment split, the shipped 4-layer x 256 model): 5e-5 x 3 epochs gives 78%, 1e-4 x 5 epochs 86.5%. So:
//   hidden <= 256 (BERT-tiny/-mini size):  1e-4, 5 epochs
//   hidden <  768 (BERT-small/-medium):    1e-4, 4 epochs
//   hidden <  1024 (BERT-base size):       5e-5, 3 epochs
//   larger (BERT-large size):              2e-5, 3 epochs (the paper's low end: large models are less stable)
// Random weights have nothing to keep: the miniatures' largest rate, 3e-4. A head the checkpoint already has (a
// fine-tuned model trained further) starts fitted: half the rate and one epoch fewer (at least 2) adapt it without
// undoing it. Batch 16, warm-up 10% and weight decay 0.01 are the paper's for every size.
TrainingDefaults training_defaults(const ModelShape& model) {
  TrainingDefaults d;
  if (model.hidden <= 256) {
    d.epochs = 5;
    d.learning_rate = 1e-4f;
    d.why = "small BERTs need larger rates than BERT-base's (Google's BERT miniatures)";
  } else if (model.hidden < 768) {
    d.epochs = 4;
    d.learning_rate = 1e-4f;
    d.why = "smaller BERTs need larger rates than BERT-base's (Google's BERT miniatures)";
  } else if (model.hidden < 1024) {
    d.epochs = 3;
    d.learning_rate = 5e-5f;
    d.why = "BERT-base size: the BERT paper's 2-4 epochs at 2e-5..5e-5";
  } else {
    d.epochs = 3;
    d.learning_rate = 2e-5f;
    d.why = "BERT-large size: the BERT paper's low rate, as large models are less stable";
  }
  if (model.untrained) {
    d.learning_rate = 3e-4f;
    d.why = "random weights: nothing pre-trained to keep, so the BERT miniatures' largest rate";
  }
  if (model.pretrained_head) {
    d.learning_rate /= 2;
    d.epochs = std::max(2, d.epochs - 1);
    d.why += "; the head is already trained: half the rate, one epoch fewer";
  }
  return d;
}

bool checkpoint_has_head(const ModelConfig& config, TrainHead head) {
  const HeadKind wanted = head == TrainHead::SequenceClassification ? HeadKind::SequenceClassification
                          : head == TrainHead::TokenClassification  ? HeadKind::TokenClassification
                          : head == TrainHead::QuestionAnswering    ? HeadKind::QuestionAnswering
                                                                    : HeadKind::MaskedLM;
  return std::any_of(config.architectures.begin(), config.architectures.end(),
                     [&](const std::string& c) { return head_of_class(config.architecture(), c) == wanted; });
}

std::string parameter_count_text(std::int64_t parameters) {
  char text[32];
  const double n = static_cast<double>(parameters);
  if (n >= 1e9) std::snprintf(text, sizeof text, "%.3gB", n / 1e9);
  else if (n >= 1e6) std::snprintf(text, sizeof text, "%.3gM", n / 1e6);
  else if (n >= 1e3) std::snprintf(text, sizeof text, "%.3gK", n / 1e3);
  else std::snprintf(text, sizeof text, "%lld", static_cast<long long>(parameters));
  return text;
}

std::string learning_rate_text(double rate) {
  if (!(rate > 0)) return "0";
  int exponent = static_cast<int>(std::floor(std::log10(rate)));
  double mantissa = std::round(rate / std::pow(10.0, exponent) * 100) / 100;  // 5e-5 / 1e-5 is 5.000000000000001
  if (mantissa >= 10) {
    mantissa /= 10;
    ++exponent;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%ge%d", mantissa, exponent);
  return text;
}

std::string describe_defaults(const ModelShape& model, const TrainingDefaults& d) {
  std::string s = "a " + parameter_count_text(model.parameters) + "-parameter model (" + std::to_string(model.layers) +
                  " layers x " + std::to_string(model.hidden) + " hidden, " +
                  (model.untrained ? "random weights, " : "") + (model.pretrained_head ? "trained head" : "new head") +
                  "): " + std::to_string(d.epochs) + " epochs, lr " + learning_rate_text(d.learning_rate) + ", batch " +
                  std::to_string(d.batch_size) + ", warm-up " + std::to_string(std::lround(d.warmup_ratio * 100)) + "%";
  return s + "; " + d.why;
}

}  // namespace bertscope
