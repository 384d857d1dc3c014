#pragma once
// Pre-training a small BERT from scratch, as the BERT paper's phase 1: masked-language modelling on sequences
// packed from a corpus (15% of tokens chosen; of those 80% become [MASK], 10% a random token, 10% stay), shuffled
// every epoch. A run lives in a folder and resumes exactly where it stopped: the model, the AdamW moments, the
// step, and therefore the data order, masks and dropout of every later step are the same as in an uninterrupted run.
//
// RUN_DIR/
//   options.json   the run's settings (fixed at the first start)
//   tokens.bin     the corpus as token ids (int32), made once
//   checkpoint/    a Hugging Face folder (BertForMaskedLM) + optimizer.safetensors + state.json, replaced atomically
//   curve.csv      the learning curve: step, loss, learning rate, speed, and held-out accuracy now and then
//                  (top-1, top-5, the unigram baseline's top-1, the held-out loss and the tokens masked)
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "core/backend.h"
#include "train/mlm_eval.h"

namespace bertscope {

struct PretrainOptions {
  // The model, made when the run starts.
  int layers = 4, hidden = 256, heads = 4, intermediate = 1024, max_positions = 128;
  bool sinusoidal_positions = false;  // see RandomModelSpec
  // A second phase: start from this masked-LM model (its architecture and vocabulary) instead of random weights,
  // with a fresh optimizer and schedule, e.g. to go on with other settings (dropout, learning rate, sequence length).
  std::string init_from;
  // Training.
  int seq_len = 128, batch_size = 32, total_steps = 40000, warmup_steps = 1000;
  float learning_rate = 5e-4f, weight_decay = 0.01f, beta2 = 0.98f, dropout = 0.1f;
  std::uint32_t seed = 0;
  // Reporting; these may change when a run resumes.
  int checkpoint_every = 200, log_every = 20, eval_every = 500;
  int pause_at_step = 0;  // stop (with a checkpoint) on reaching this step, the schedule unchanged; 0: run to the end
};

struct PretrainProgress {
  int step = 0, total_steps = 0;
  double loss = 0;  // mean over the steps since the last report
  double learning_rate = 0, tokens_per_second = 0, elapsed_seconds = 0, eta_seconds = 0;
  std::optional<MlmEvalResult> heldout;  // set on evaluation steps
};

struct PretrainCallbacks {
  std::function<void(const PretrainProgress&)> progress;
  std::function<void(const std::string&)> message;
  std::function<bool()> stop;  // polled every step; a checkpoint is written before returning
};

// Throws Error unless `run_dir` is a run to resume (options.json and checkpoint/state.json) or a new or empty
// folder. Called before any work, so a bad folder costs nothing.
void check_pretraining_run_folder(const std::filesystem::path& run_dir);

// The rows of `run_dir`'s curve.csv up to `last_step` (a resumed run logs the steps after its checkpoint again), in
// order: what a resumed run's charts show of the steps before it. Empty when there is no curve; rows that cannot be
// read are skipped (a line cut by a kill). Files from before the held-out loss was logged read it as 0.
std::vector<PretrainProgress> read_pretraining_curve(const std::filesystem::path& run_dir, int last_step);

// Starts or resumes the run in `run_dir`; `options` are used only when it starts (its reporting intervals always).
// corpus: one paragraph a line; vocab: vocab.txt (unused with init_from); heldout (optional): text to evaluate on. Returns the step reached.
int pretrain(const std::filesystem::path& run_dir, const std::filesystem::path& corpus, const std::filesystem::path& vocab,
             const std::filesystem::path& heldout, Backend& backend, const PretrainOptions& options,
             const PretrainCallbacks& callbacks = {});

}  // namespace bertscope
