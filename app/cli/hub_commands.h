#pragma once
// bertscope-cli download / cache list / cache rm: models from the Hugging Face Hub, in the cache huggingface_hub
// shares. And the options every command that takes a model passes on when the model is a Hub id: the revision,
// and progress (bytes, speed, ETA) and notes on stderr.
#include <CLI/CLI.hpp>
#include <string>

#include "hub/download.h"

struct HubCommand {
  std::string id, revision = "main";
};

CLI::App* add_download_command(CLI::App& app, HubCommand& args);
// `cache` with its `list` and `rm ID` subcommands.
CLI::App* add_cache_command(CLI::App& app, HubCommand& args);
int run_download(const HubCommand& args);
int run_cache(const CLI::App& cache_command, const HubCommand& args);

namespace bertscope::cli {
// Adds --revision to a command that takes a model.
void add_revision_option(CLI::App* command, std::string& revision);
// FetchOptions for `revision` that report progress and notes on stderr (one updating line on a terminal, a line
// every few seconds otherwise).
bertscope::hub::FetchOptions hub_options(const std::string& revision);
}  // namespace bertscope::cli
