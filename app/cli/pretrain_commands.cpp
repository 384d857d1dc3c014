#include "cli/pretrain_commands.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/hub_commands.h"
#include "cli/train_commands.h"
#include "core/error.h"
#include "session.h"
#include "train/bert_trainer.h"

using nlohmann::json;
using namespace bertscope;

namespace {
std::atomic<bool> stop_requested{false};
}

CLI::App* add_pretrain_command(CLI::App& app, PretrainCommand& a) {
  auto* cmd = app.add_subcommand("pretrain", "pre-train a small BERT from scratch on a corpus (masked LM; resumes where it stopped)");
  PretrainOptions& o = a.options;
  cmd->add_option("run", a.run, "run folder (checkpoint, learning curve); an existing run resumes")->required();
  cmd->add_option("--corpus", a.corpus, "training text, one paragraph a line")->required();
  cmd->add_option("--vocab", a.vocab, "vocab.txt (see train-vocab); used when a new run starts from random weights");
  cmd->add_option("--init-from", o.init_from,
                  "start a new run from this masked-LM model (a folder, a Hub id or 'default'), not random weights");
  cli::add_revision_option(cmd, a.revision);
  cmd->add_option("--heldout", a.heldout, "text to measure masked-token accuracy on during training");
  cmd->add_option("--layers", o.layers)->check(CLI::Range(1, 48))->capture_default_str();
  cmd->add_option("--hidden", o.hidden)->check(CLI::Range(1, 8192))->capture_default_str();
  cmd->add_option("--heads", o.heads)->check(CLI::Range(1, 128))->capture_default_str();
  cmd->add_option("--intermediate", o.intermediate)->check(CLI::Range(1, 65536))->capture_default_str();
  cmd->add_option("--max-positions", o.max_positions)->check(CLI::Range(3, 8192))->capture_default_str();
  cmd->add_flag("--sinusoidal-positions", o.sinusoidal_positions,
                "start the position embeddings as sines/cosines instead of noise (leaves the plateau sooner)");
  cmd->add_option("--seq-len", o.seq_len)->check(CLI::Range(3, 8192))->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size)->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--steps", o.total_steps, "total optimizer steps (raise it to extend a run)")->capture_default_str();
  cmd->add_option("--warmup", o.warmup_steps, "warm-up steps")->capture_default_str();
  cmd->add_option("--lr", o.learning_rate, "peak learning rate")->capture_default_str();
  cmd->add_option("--dropout", o.dropout)->capture_default_str();
  cmd->add_option("--seed", o.seed)->capture_default_str();
  cmd->add_option("--checkpoint-every", o.checkpoint_every)->check(CLI::Range(1, 1073741824))->capture_default_str();
  cmd->add_option("--eval-every", o.eval_every)->check(CLI::Range(1, 1073741824))->capture_default_str();
  cmd->add_option("--log-every", o.log_every)->check(CLI::Range(1, 1073741824))->capture_default_str();
  cmd->add_option("--pause-at", o.pause_at_step, "stop (with a checkpoint) at this step; a later call resumes");
  cmd->add_option("--max-minutes", a.max_minutes, "stop (with a checkpoint) after this many minutes; 0: no limit");
  cmd->add_option("--export", a.export_to, "afterwards, write the model (F16, no optimizer state) to this folder");
  cmd->add_option("--backend", a.backend, "auto | vulkan | cpu")->capture_default_str();
  cmd->add_option("--device", a.device, "Vulkan device index");
  return cmd;
}

CLI::App* add_evaluate_mlm_command(CLI::App& app, EvaluateMlmCommand& a) {
  auto* cmd = app.add_subcommand("evaluate-mlm", "masked-token accuracy (top-1, top-5) on a text, with a unigram baseline");
  cmd->add_option("model", a.model, "Hugging Face model folder, a Hub id (name or org/name), or 'default'")->capture_default_str();
  cli::add_revision_option(cmd, a.revision);
  cmd->add_option("text", a.text, "UTF-8 text file")->required();
  cmd->add_option("--seed", a.seed, "which tokens are masked")->capture_default_str();
  cmd->add_option("--max-length", a.max_length, "tokens per sequence")->capture_default_str();
  cmd->add_option("--backend", a.backend, "auto | vulkan | cpu")->capture_default_str();
  cmd->add_option("--device", a.device, "Vulkan device index");
  return cmd;
}

int run_pretrain(const PretrainCommand& a) {
  auto backend = open_backend({parse_backend_kind(a.backend), a.device, false});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.max_minutes * 60.0);
  PretrainCallbacks cb;
  cb.message = [](const std::string& m) { std::cerr << "bertscope: " << m << "\n"; };
  cb.progress = [](const PretrainProgress& p) {
    std::fprintf(stderr, "step %d/%d  loss %.4f  lr %.2e  %.0f tokens/s  elapsed %.1f h  ETA %.1f h", p.step, p.total_steps,
                 p.loss, p.learning_rate, p.tokens_per_second, p.elapsed_seconds / 3600, p.eta_seconds / 3600);
    if (p.heldout)
      std::fprintf(stderr, "  held-out top-1 %.3f top-5 %.3f (unigram %.3f / %.3f)", p.heldout->top1, p.heldout->top5,
                   p.heldout->baseline_top1, p.heldout->baseline_top5);
    std::fprintf(stderr, "\n");
  };
  cb.stop = [&] {
    return stop_requested.load() || (a.max_minutes > 0 && std::chrono::steady_clock::now() > deadline);
  };
  std::signal(SIGINT, [](int) { stop_requested = true; });   // Ctrl+C: checkpoint, then stop
  std::signal(SIGTERM, [](int) { stop_requested = true; });
  PretrainOptions options = a.options;
  // A Hub id or 'default' names a folder; it matters only when the run starts (a run resumes from its checkpoint,
  // so resuming never goes to the network).
  const bool starting = !std::filesystem::exists(std::filesystem::path(a.run) / "checkpoint" / "state.json");
  if (starting && !options.init_from.empty())
    options.init_from = resolve_model_path(options.init_from, cli::hub_options(a.revision)).string();
  const int step = pretrain(a.run, a.corpus, a.vocab, a.heldout, *backend, options, cb);
  json out = {{"run", a.run}, {"step", step}, {"checkpoint", (std::filesystem::path(a.run) / "checkpoint").string()}};
  if (!a.export_to.empty()) {
    TrainerOptions o;
    o.head = TrainHead::MaskedLM;
    o.dropout = 0;
    BertTrainer model(std::filesystem::path(a.run) / "checkpoint", *backend, o);
    model.save(a.export_to, StDType::F16);
    out["export"] = a.export_to;
    std::cerr << "bertscope: exported the model (F16) to " << a.export_to << "\n";
  }
  std::cout << out.dump() << std::endl;
  return 0;
}

int run_evaluate_mlm(const EvaluateMlmCommand& a) {
  Session session(resolve_model_path(a.model, cli::hub_options(a.revision)), {parse_backend_kind(a.backend), a.device, false});
  std::ifstream in(a.text);
  if (!in) throw Error(a.text + ": cannot open");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  const MlmEvalResult r = evaluate_mlm(session.model(), session.tokenizer(), lines, a.max_length, a.seed);
  std::cout << json{{"masked", r.masked}, {"tokens", r.tokens}, {"loss", r.loss}, {"top1", r.top1}, {"top5", r.top5},
                    {"baseline_top1", r.baseline_top1}, {"baseline_top5", r.baseline_top5}}.dump()
            << std::endl;
  return 0;
}
