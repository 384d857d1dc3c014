#include "cli/attention_command.h"

#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "core/json_io.h"

namespace fs = std::filesystem;

namespace bertscope::cli {

namespace {

bool ends_with_npy(const std::string& path) { return fs::path(path).extension() == ".npy"; }

}  // namespace

void add_attention_options(CLI::App* command, AttentionArgs& args) {
  command->add_option("--layer", args.selection.layers,
                      "layers to report, 0-based, -1 the last (repeat it or use commas: --layer 0,11); default all")
      ->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("--head", args.selection.heads, "heads to report in each layer, as --layer; default all")
      ->delimiter(',')
      ->allow_extra_args(false);
  command->add_option("--format", args.format,
                      "json: one JSON line an input; npy: a float32 array (layers, heads, T, T) in --out, with its "
                      "tokens, layers and heads in a .json beside it. Default: npy when --out ends in .npy")
      ->check(CLI::IsMember({"auto", "json", "npy"}))
      ->capture_default_str();
  command->add_option("--out", args.out, "file to write (never over an existing one) instead of stdout");
}

AttentionOutput::AttentionOutput(const AttentionArgs& args, bool many_inputs) : args_(args) {
  npy_ = args.format == "npy" || (args.format == "auto" && ends_with_npy(args.out));
  if (!npy_) {
    if (!args.out.empty()) file_ = std::make_unique<StagedFile>(args.out);
    return;
  }
  if (many_inputs) throw Error("--format npy holds one input's maps; with --jsonl use --format json");
  if (args.out.empty()) throw Error("--format npy needs --out FILE.npy (a binary array is not for the terminal)");
  if (!ends_with_npy(args.out)) throw Error("--out " + args.out + ": a .npy file's name must end in .npy");
  file_ = std::make_unique<StagedFile>(args.out);
  sidecar_ = std::make_unique<StagedFile>(fs::path(file_->destination()).replace_extension(".json"));
}

void AttentionOutput::check(const ModelConfig& config) const {
  resolve_attention_indices(args_.selection.layers, config.num_hidden_layers, "layer");
  resolve_attention_indices(args_.selection.heads, config.num_attention_heads, "head");
}

std::ostream& AttentionOutput::stream() { return file_ ? file_->stream() : std::cout; }

void AttentionOutput::write(AttentionMaps& maps) {
  if (!npy_) {
    const bool selected = !args_.selection.layers.empty() || !args_.selection.heads.empty();
    write_attention_json(maps, selected, stream());
    stream() << '\n';
    stream().flush();
    return;
  }
  if (written_) throw Error("--format npy holds one input's maps");
  write_attention_npy(maps, file_->stream());
  sidecar_->stream() << dump_json(attention_sidecar(maps, file_->destination().filename().string())) << '\n';
  written_ = true;
}

void AttentionOutput::commit() {
  if (!file_) return;
  if (npy_ && !written_) return;  // nothing was computed: no file
  if (sidecar_) {
    commit_together(*file_, *sidecar_);  // a .npy without its sidecar is not a result
  } else {
    file_->commit();
  }
  nlohmann::json said = {{"out", file_->destination().string()}, {"format", npy_ ? "npy" : "json"}};
  if (sidecar_) said["sidecar"] = sidecar_->destination().string();
  std::cout << dump_json(said) << std::endl;
}

}  // namespace bertscope::cli
