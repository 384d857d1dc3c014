#pragma once
// Attention maps one layer at a time, for outputs too large to hold whole: bert-base at 512 tokens has
// 12 x 12 x 512 x 512 probabilities, 151 MB as float32 and 817 MB as JSON text. The encoder runs once; each
// selected layer comes to the host only when asked for, and its copy on the backend is freed then, so a caller that
// writes each layer out as it comes holds one layer's maps, not all of them.
#include <optional>
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

class AttentionMaps {
 public:
  // Checks the selection against the model, runs the encoder, then checks every selected map for NaN and
  // infinity: whatever can fail, but the device, fails here, before a caller has written anything.
  AttentionMaps(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                std::optional<std::string_view> text_pair = std::nullopt, const AttentionSelection& selection = {});

  const Encoding& encoding() const { return encoding_; }
  const std::vector<int>& layers() const { return layers_; }  // the model's index of each selected layer
  const std::vector<int>& heads() const { return heads_; }    // the model's index of each selected head
  int tokens() const { return static_cast<int>(encoding_.size()); }  // T
  size_t layer_floats() const { return heads_.size() * static_cast<size_t>(tokens()) * static_cast<size_t>(tokens()); }

  // The i-th selected layer, (heads().size(), T, T): row = query token, column = key token. Frees the layer's copy
  // on the backend, so each layer can be taken once.
  std::vector<float> take_layer(size_t i);

 private:
  std::vector<float> download(size_t i) const;  // the selected heads of the i-th selected layer

  BertModel& model_;
  Encoding encoding_;
  std::vector<int> layers_, heads_;
  std::vector<Tensor> probs_;  // per selected layer: (1, A, T, T) on the model's backend; empty once taken
};

}  // namespace bertscope
