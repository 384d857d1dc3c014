#pragma once
// bertscope-cli train / evaluate: fine-tune a sentence classifier from a CSV, a token classifier (NER, parts of
// speech) from CoNLL / JSON-lines files or an extractive question answerer from SQuAD files, and measure each; or
// write the same job as a script for Hugging Face's Trainer (--export-script).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct TrainCommand {
  std::string model = "default", csv, text_column, label_column, out;
  std::string backend = "auto", delimiter = "auto", header = "auto", save_split;
  std::string revision = "main";  // when the model is a Hugging Face Hub id
  int device = -1, max_length = 128, freeze = 0;
  // Not given: fitted to the model (train/training_defaults.h); given values always win.
  std::optional<int> epochs, batch_size;
  std::optional<float> learning_rate, warmup, weight_decay;
  int patience = 0;  // early stopping: epochs without a better validation score before stopping (0: off)
  unsigned seed = 0;
  float dropout = 0.1f;
  // train --validation: a share of the training data held out (classification's default 0.2), or with --task ner
  // or qa a file of its own (or a share of --train; default: none)
  std::string validation;
  bool stop_on_bad_rows = false;
  std::string task = "classification", data;  // evaluate --task ner|qa --data FILE
  std::string train_file;                     // train --task ner|qa --train FILE
  bool lenient = false;                       // seqeval's default mode instead of strict IOB2
  // --task qa: Hugging Face run_qa's defaults (the window capped at the model's length)
  int max_seq_length = 384, doc_stride = 128, max_answer_length = 30, n_best = 20;
  std::string export_script;  // train: write the job as a Hugging Face Trainer script instead of training
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

// Shared by the classification, token-classification (tagging_commands.cpp) and question-answering (qa_commands.cpp)
// paths.
namespace bertscope {
struct TrainProgress;
struct EpochResult;
struct FineTuneOptions;
struct FineTuneCallbacks;
struct TrainerOptions;
struct TrainingJob;
struct ModelShape;
struct FineTuneResult;
struct ModelConfig;
enum class TrainHead;
class BertTrainer;
}  // namespace bertscope
int run_train_ner(const TrainCommand& args);
int run_evaluate_ner(const TrainCommand& args);
int run_train_qa(const TrainCommand& args);
int run_evaluate_qa(const TrainCommand& args);
bertscope::BackendRequest backend_request(const TrainCommand& args);
// The trainer's and the loop's settings from the command's options (--dropout, --freeze, --seed, --epochs, --lr, ...).
bertscope::TrainerOptions trainer_options(const TrainCommand& args, bertscope::TrainHead head,
                                          const std::vector<std::string>& labels = {});
// The loop's settings: what the command gives (--epochs, --lr, --batch-size, --warmup, --weight-decay, --patience,
// --seed, --max-length), the rest fitted to `model` (training_defaults), with a line on stderr saying what was chosen
// and why.
bertscope::FineTuneOptions fine_tune_options(const TrainCommand& args, const bertscope::ModelShape& model);
// What the fitted defaults look at: the checkpoint in `folder` (its parameters, hidden size, layers, random or not)
// and whether the task's head comes from it.
bertscope::ModelShape model_shape(const std::filesystem::path& folder, const bertscope::ModelConfig& config,
                                  bool pretrained_head);
// "bertscope: kept epoch 2's weights (best validation F1 0.81); stopped early after epoch 4: no better score in 2
// epochs" on stderr when --patience is on; nothing otherwise.
void report_kept_epoch(const TrainCommand& args, const bertscope::FineTuneResult& result);
// Progress (print_progress), Ctrl+C (interrupt_requested) and `epoch_done` after each epoch.
bertscope::FineTuneCallbacks cli_callbacks(std::function<void(const bertscope::EpochResult&)> epoch_done);
// The end of a training command: when `cancelled`, says nothing was saved and returns false; otherwise saves the
// trainer's model to `out`, says so, and returns true.
bool save_unless_cancelled(bool cancelled, bertscope::BertTrainer& trainer, const std::string& out);
// --validation for --task ner and qa: true when it names a file; false for a share (or none); Error for neither.
bool validation_is_file(const TrainCommand& args);
// --export-script: `job` (its task, data and labels filled in by the caller) with the command's model, output folder
// and hyper-parameters, written as a new file (never over one). Local paths become absolute. Returns the exit code.
int export_training_script(const TrainCommand& args, bertscope::TrainingJob job, const bertscope::FineTuneOptions& options);
void print_progress(const bertscope::TrainProgress& progress);  // to stderr: about once a second, and each epoch's end
float parse_share(const std::string& text, const std::string& option);  // in [0, 1), or Error naming the option
bool interrupt_requested();       // Ctrl+C arrived since watch_interrupts(true)
void watch_interrupts(bool on);   // on: Ctrl+C asks the run to stop between steps; off: Ctrl+C kills again
