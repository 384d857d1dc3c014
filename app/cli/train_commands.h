#pragma once
// bertscope-cli train / evaluate: fine-tune a sentence classifier from a CSV or a token classifier (NER, parts of
// speech) from CoNLL / JSON-lines files, and measure either.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

struct TrainCommand {
  std::string model = "default", csv, text_column, label_column, out;
  std::string backend = "auto", delimiter = "auto", header = "auto", save_split;
  std::string revision = "main";  // when the model is a Hugging Face Hub id
  int device = -1, epochs = 3, batch_size = 16, max_length = 128, freeze = 0;
  unsigned seed = 0;
  float learning_rate = 5e-5f, dropout = 0.1f, warmup = 0.1f, weight_decay = 0.01f;
  // train --validation: a share of the training data held out (classification's default 0.2), or with --task ner
  // a file of its own (or a share of --train; default: none)
  std::string validation;
  bool stop_on_bad_rows = false;
  std::string task = "classification", data;  // evaluate --task ner --data FILE
  std::string train_file;                     // train --task ner --train FILE
  bool lenient = false;                       // seqeval's default mode instead of strict IOB2
};

CLI::App* add_train_command(CLI::App& app, TrainCommand& args);
CLI::App* add_evaluate_command(CLI::App& app, TrainCommand& args);
int run_train(const TrainCommand& args);
int run_evaluate(const TrainCommand& args);
// The fine-tuning step of hf-oracle's bench_torch.py --train-batch: B random sentences of T tokens, a 2-label
// classifier, forward + cross-entropy + backward + AdamW, no dropout. Prints JSON with the median milliseconds.
namespace bertscope { struct BackendRequest; class Backend; }
int bench_training_step(const std::string& model, const bertscope::BackendRequest& backend, int tokens, int reps, int batch);
// make_backend for a command: prints the choice's warning (a GPU that failed its self-check) and note to stderr.
std::unique_ptr<bertscope::Backend> open_backend(const bertscope::BackendRequest& request);

// Shared by the classification and token-classification paths (tagging_commands.cpp has the latter).
namespace bertscope { struct TrainProgress; }
int run_train_ner(const TrainCommand& args);
int run_evaluate_ner(const TrainCommand& args);
bertscope::BackendRequest backend_request(const TrainCommand& args);
void print_progress(const bertscope::TrainProgress& progress);  // every 10th step and the last, to stderr
float parse_share(const std::string& text, const std::string& option);  // in [0, 1), or Error naming the option
bool interrupt_requested();       // Ctrl+C arrived since watch_interrupts(true)
void watch_interrupts(bool on);   // on: Ctrl+C asks the run to stop between steps; off: Ctrl+C kills again
