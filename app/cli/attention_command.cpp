#include "cli/attention_command.h"

#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "core/json_io.h"
#include "explain/attention_flow.h"

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
  command->add_flag("--rollout", args.rollout,
                    "attention rollout (Abnar & Zuidema 2020) instead of the heads: one map a layer, (layers, 1, T, T), "
                    "the mean of the heads plus the residual, multiplied through the layers so far");
  command->add_flag("--flow", args.flow,
                    "attention flow (Abnar & Zuidema 2020) instead of the heads: one map a layer, the maximum flow from "
                    "each input token; at most 64 tokens, and slow (a maximum flow per pair of tokens)");
}

namespace {

// --rollout and --flow: the selected layers' rollout or flow maps, each (1, T, T), made from every layer's heads.
class DerivedLayers : public AttentionLayers {
 public:
  DerivedLayers(AttentionMaps& all, const std::vector<int>& wanted, int layer_count, bool flow)
      : encoding_(all.encoding()), layers_(resolve_attention_indices(wanted, layer_count, "layer")) {
    const int T = all.tokens(), A = static_cast<int>(all.heads().size());
    if (flow && T > kAttentionFlowMaxTokens)  // before any work, with the length
      throw Error("--flow takes at most " + std::to_string(kAttentionFlowMaxTokens) + " tokens; this input has " +
                  std::to_string(T) + " (--rollout takes any length)");
    std::vector<std::vector<float>> heads;  // every layer's (A, T, T)
    for (size_t l = 0; l < all.layers().size(); ++l) heads.push_back(all.take_layer(l));
    const std::vector<std::vector<float>> rollout = flow ? std::vector<std::vector<float>>() : attention_rollout(heads, A, T);
    for (int l : layers_)
      maps_.push_back(flow ? attention_flow(heads, A, T, l) : rollout[static_cast<size_t>(l)]);
  }
  const Encoding& encoding() const override { return encoding_; }
  const std::vector<int>& layers() const override { return layers_; }
  const std::vector<int>& heads() const override { return one_map_; }
  std::vector<float> take_layer(size_t i) override { return std::move(maps_.at(i)); }

 private:
  Encoding encoding_;
  std::vector<int> layers_, one_map_ = {0};
  std::vector<std::vector<float>> maps_;  // per selected layer (T, T)
};

}  // namespace

AttentionOutput::AttentionOutput(const AttentionArgs& args, bool many_inputs) : args_(args) {
  if (args.rollout && args.flow) throw Error("--rollout and --flow each give one map a layer: choose one");
  if (derived() && !args.selection.heads.empty())
    throw Error(std::string(args.rollout ? "--rollout" : "--flow") + " gives one map a layer, made from every head: --head does not apply");
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
  if (!derived()) return write_layers(maps);
  DerivedLayers made(maps, args_.selection.layers, static_cast<int>(maps.layers().size()), args_.flow);
  write_layers(made);
}

void AttentionOutput::write_layers(AttentionLayers& maps) {
  if (!npy_) {
    const bool selected = !args_.selection.layers.empty() || !args_.selection.heads.empty();
    write_attention_json(maps, selected, stream());
    stream() << '\n';
    stream().flush();
    return;
  }
  if (written_) throw Error("--format npy holds one input's maps");
  write_attention_npy(maps, file_->stream());
  nlohmann::json sidecar = attention_sidecar(maps, file_->destination().filename().string());
  if (derived()) sidecar["maps"] = args_.rollout ? "attention rollout" : "attention flow";  // the head axis holds one
  sidecar_->stream() << dump_json(sidecar) << '\n';
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
