#pragma once
// bertscope-cli explain: why the model gives an output. Per-token saliency (gradient x input, or integrated
// gradients with its completeness error) for one logit of a task's head, or, with --rank-heads, every attention
// head's importance by ablation; --head-mask switches heads off first. One JSON object on stdout, a token (or a head)
// per entry. The work is the engine's (explain/explain.h).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "model/bert_model.h"
#include "text/tokenizer.h"

namespace bertscope::cli {

struct ExplainArgs {
  std::string task;              // fill-mask | classify | qa | ner
  std::string text, text_pair;   // qa: text is the context
  std::string question;          // qa
  std::string target;            // fill-mask: a word; classify, ner: a label (name or id); qa: start | end
  int position = -1;             // the token (fill-mask, qa, ner); -1: the default (explain.h: resolve_target)
  std::string method = "grad-input";  // grad-input | ig
  int steps = 32;
  std::string baseline = "zero";  // zero | pad
  std::string head_mask;          // "L:H,..." switched off
  bool rank_heads = false;
};

// The explain subcommand with its options (the model and backend options are the caller's).
CLI::App* add_explain_command(CLI::App& app, ExplainArgs& args);
// Runs it on a loaded model: the answer, whole, for one line of stdout. Throws Error for a bad argument.
nlohmann::json run_explain(BertModel& model, const Tokenizer& tokenizer, const ExplainArgs& args);

}  // namespace bertscope::cli
