#pragma once
// bertscope-cli pretrain / evaluate-mlm: pre-train a small BERT from scratch (resumable), and measure masked-token
// accuracy on a text.
#include <CLI/CLI.hpp>
#include <string>

#include "train/pretraining.h"

struct PretrainCommand {
  std::string run, corpus, vocab, heldout, backend = "auto", export_to;
  std::string revision = "main";  // when --init-from is a Hugging Face Hub id
  int device = -1;
  double max_minutes = 0;
  bertscope::PretrainOptions options;
};

struct EvaluateMlmCommand {
  std::string model = "default", text, backend = "auto", revision = "main";
  int device = -1, max_length = 128;
  unsigned seed = 0;
};

CLI::App* add_pretrain_command(CLI::App& app, PretrainCommand& args);
CLI::App* add_evaluate_mlm_command(CLI::App& app, EvaluateMlmCommand& args);
int run_pretrain(const PretrainCommand& args);
int run_evaluate_mlm(const EvaluateMlmCommand& args);
