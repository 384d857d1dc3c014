#include "cli/hub_commands.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/read_file.h"
#include "hub/cache.h"
#include "hub/settings.h"

using nlohmann::json;
using namespace bertscope;

namespace {

std::atomic<bool> interrupted{false};

std::string duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
  return std::to_string(s / 3600) + " h " + std::to_string(s % 3600 / 60) + " min";
}

}  // namespace

namespace bertscope::cli {

void add_revision_option(CLI::App* command, std::string& revision) {
  command->add_option("--revision", revision, "for a Hugging Face Hub id: a branch, tag or commit id")->capture_default_str();
}

hub::FetchOptions hub_options(const std::string& revision) {
  hub::FetchOptions o;
  o.revision = revision;
  o.cancel = &interrupted;
  const bool terminal = isatty(STDERR_FILENO);
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  auto open_line = std::make_shared<bool>(false);  // a progress line waits for its end on the terminal
  o.on_progress = [terminal, last, open_line](const hub::DownloadProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool finished = p.files_done == p.file_count;
    if (!terminal && !finished && now - *last < std::chrono::seconds(2)) return;
    *last = now;
    std::string line = "bertscope: " + p.file + " (file " + std::to_string(std::min(p.files_done + 1, p.file_count)) +
                       " of " + std::to_string(p.file_count) + "): " + describe_bytes(p.done) + " of " +
                       describe_bytes(p.total);
    if (p.bytes_per_second > 0) line += ", " + describe_bytes(static_cast<std::uint64_t>(p.bytes_per_second)) + "/s";
    if (p.eta_seconds >= 0 && !finished) line += ", " + duration(p.eta_seconds) + " left";
    if (terminal) {
      std::fprintf(stderr, "\r%-100s", line.c_str());
      *open_line = !finished;
      if (finished) std::fprintf(stderr, "\n");
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  };
  o.on_note = [open_line](const std::string& note) {
    if (*open_line) std::fprintf(stderr, "\n");
    *open_line = false;
    std::fprintf(stderr, "bertscope: note: %s\n", note.c_str());
  };
  return o;
}

}  // namespace bertscope::cli

CLI::App* add_download_command(CLI::App& app, HubCommand& a) {
  auto* cmd = app.add_subcommand("download", "fetch a model from the Hugging Face Hub into its cache (shared with "
                                             "Python's huggingface_hub) and print its snapshot folder");
  cmd->add_option("id", a.id, "the model's id on the Hub: name or org/name")->required();
  cli::add_revision_option(cmd, a.revision);
  return cmd;
}

CLI::App* add_cache_command(CLI::App& app, HubCommand& a) {
  auto* cmd = app.add_subcommand("cache", "the Hugging Face cache: list the models in it, or remove one");
  cmd->require_subcommand(1);
  cmd->add_subcommand("list", "the cached models with their sizes, revisions and snapshot folders (JSON)");
  auto* rm = cmd->add_subcommand("rm", "delete a model from the cache (all its revisions)");
  rm->add_option("id", a.id, "the model's id on the Hub")->required();
  return cmd;
}

int run_download(const HubCommand& a) {
  std::signal(SIGINT, [](int) { interrupted = true; });  // Ctrl+C: stop cleanly, the part received kept
  const hub::FetchResult r = hub::download_model(a.id, cli::hub_options(a.revision));
  if (r.from_cache) std::cerr << "bertscope: " << a.id << " is up to date in the cache (commit " << r.commit << ")\n";
  std::cout << r.folder.string() << std::endl;
  return 0;
}

int run_cache(const CLI::App& cache_command, const HubCommand& a) {
  const hub::HubCache cache(hub::hub_settings_from_environment().cache);
  if (cache_command.got_subcommand("list")) {
    json models = json::array();
    for (const auto& m : cache.list()) {
      json revisions = json::array();
      for (const auto& r : m.revisions)
        revisions.push_back({{"commit", r.commit}, {"refs", r.refs}, {"folder", r.snapshot.string()},
                             {"complete", r.missing.empty()}, {"missing", r.missing}});
      models.push_back({{"id", m.id}, {"bytes", m.bytes}, {"size", describe_bytes(m.bytes)},
                        {"folder", m.folder.string()}, {"revisions", revisions}});
    }
    std::cout << json{{"cache", cache.root().string()}, {"models", models}}.dump() << std::endl;
    return 0;
  }
  const std::uint64_t freed = cache.remove(a.id);
  std::cerr << "bertscope: removed " << a.id << " from the Hugging Face cache (" << describe_bytes(freed) << ")\n";
  std::cout << json{{"removed", a.id}, {"bytes", freed}}.dump() << std::endl;
  return 0;
}
