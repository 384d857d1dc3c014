#pragma once
// bertscope-cli attention: the attention probabilities of every layer and head (or the chosen ones), written a layer
// at a time as they come off the model, so memory holds one layer's maps, never the whole output. As a JSON line
// (the shape every task answers with), or as a .npy array, float32 of shape (layers, heads, T, T), with a JSON
// sidecar beside it naming the tokens and the layers and heads it holds. The formats are the engine's
// (tasks/attention_maps.h), which the GUI's export writes too.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "core/safe_files.h"
#include "model/config.h"
#include "tasks/attention_maps.h"

namespace bertscope::cli {

struct AttentionArgs {
  std::string format = "auto";  // json | npy; auto: npy when --out ends in .npy, else json
  std::string out;              // empty: JSON lines on stdout
  AttentionSelection selection;
  bool rollout = false, flow = false;  // one map a layer through the layers so far (explain/attention_flow.h)
};

void add_attention_options(CLI::App* command, AttentionArgs& args);

// Where `attention` writes: chosen and checked when constructed, before the model loads, so that a bad --out costs
// nothing. --out files are built under temporary names and put in place by commit(); an existing file is refused.
class AttentionOutput {
 public:
  AttentionOutput(const AttentionArgs& args, bool many_inputs);

  // What AttentionMaps should hold: the selection, or every layer and head for --rollout and --flow.
  AttentionSelection selection() const { return derived() ? AttentionSelection{} : args_.selection; }
  // Throws Error for a layer or head the model lacks: before any input runs.
  void check(const ModelConfig& config) const;
  std::ostream& stream();  // where JSON lines go (stdout or --out), JSONL error lines included
  // Writes one input's maps (or, for --rollout and --flow, the maps made from them), the JSON line's newline included.
  void write(AttentionMaps& maps);
  // Puts --out files in place and says on stdout what was written; nothing to do for stdout.
  void commit();

 private:
  bool derived() const { return args_.rollout || args_.flow; }
  void write_layers(AttentionLayers& maps);
  AttentionArgs args_;
  bool npy_ = false;
  std::unique_ptr<StagedFile> file_, sidecar_;
  bool written_ = false;
};

}  // namespace bertscope::cli
