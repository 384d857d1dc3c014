#pragma once
// Attention maps one layer at a time, for outputs too large to hold whole: bert-base at 512 tokens has
// 12 x 12 x 512 x 512 probabilities, 151 MB as float32 and 817 MB as JSON text. The encoder runs once; each
// selected layer comes to the host only when asked for, and its copy on the backend is freed then, so a caller that
// writes each layer out as it comes holds one layer's maps, not all of them. The file formats (a JSON line, a .npy
// array with a JSON sidecar) are written here too, a layer at a time, for the CLI and the GUI's export alike.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "model/bert_model.h"
#include "text/tokenizer.h"

namespace bertscope {

// Which layers and heads to report, in the order given; empty means all. An index may count from the end, as in
// Python: -1 is the last layer.
struct AttentionSelection {
  std::vector<int> layers;
  std::vector<int> heads;
};

// The indices `wanted` picks among `count` (all of them when empty), each in [0, count). Throws Error for an index
// out of range or listed twice, naming `what` ("layer", "head") and the valid range.
std::vector<int> resolve_attention_indices(const std::vector<int>& wanted, int count, const char* what);

// Attention maps handed out a layer at a time: AttentionMaps (off the model) or maps a caller already holds (the
// GUI's). What the writers below read.
class AttentionLayers {
 public:
  virtual ~AttentionLayers() = default;
  virtual const Encoding& encoding() const = 0;
  virtual const std::vector<int>& layers() const = 0;  // the model's index of each selected layer
  virtual const std::vector<int>& heads() const = 0;   // the model's index of each selected head
  // The i-th selected layer, (heads().size(), T, T): row = query token, column = key token. Each layer is taken once.
  virtual std::vector<float> take_layer(size_t i) = 0;

  int tokens() const { return static_cast<int>(encoding().size()); }  // T
  size_t layer_floats() const { return heads().size() * static_cast<size_t>(tokens()) * static_cast<size_t>(tokens()); }
};

class AttentionMaps : public AttentionLayers {
 public:
  // Checks the selection against the model, runs the encoder, then checks every selected map for NaN and
  // infinity: whatever can fail, but the device, fails here, before a caller has written anything.
  AttentionMaps(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                std::optional<std::string_view> text_pair = std::nullopt, const AttentionSelection& selection = {});

  const Encoding& encoding() const override { return encoding_; }
  const std::vector<int>& layers() const override { return layers_; }
  const std::vector<int>& heads() const override { return heads_; }
  // Frees the layer's copy on the backend.
  std::vector<float> take_layer(size_t i) override;

 private:
  std::vector<float> download(size_t i) const;  // the selected heads of the i-th selected layer

  BertModel& model_;
  Encoding encoding_;
  std::vector<int> layers_, heads_;
  std::vector<Tensor> probs_;  // per selected layer: (1, A, T, T) on the model's backend; empty once taken
};

// Called after each layer is written with how many are written so far; may throw to stop (a cancel, a full disk).
using AttentionProgress = std::function<void(size_t layers_written)>;

// One input's JSON line, without the newline, written a layer at a time: the text nlohmann's dump() gives for
// {"attentions": [layer][head][query][key], "heads": heads, "layers": layers, "tokens": [...]}, plus
// "layer_indices" and "head_indices" (the model's index of each) when `with_indices`.
void write_attention_json(AttentionLayers& maps, bool with_indices, std::ostream& out, const AttentionProgress& progress = {});
// The header of a .npy file (format version 1.0) holding a float32 C-order array of `shape`: magic, version,
// length, then the header dict padded with spaces to a multiple of 64 bytes.
std::string npy_header(const std::vector<size_t>& shape);
// The .npy file of `maps`, a layer at a time: shape (layers, heads, T, T).
void write_attention_npy(AttentionLayers& maps, std::ostream& out, const AttentionProgress& progress = {});
// What the .npy's axes mean: its file name, shape, dtype, axes, tokens, and the model's layer and head indices.
nlohmann::json attention_sidecar(const AttentionLayers& maps, const std::string& npy_name);

}  // namespace bertscope
