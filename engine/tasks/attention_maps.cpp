#include "tasks/attention_maps.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <string>

#include "core/error.h"
#include "tasks/tasks.h"

namespace bertscope {

std::vector<int> resolve_attention_indices(const std::vector<int>& wanted, int count, const char* what) {
  std::vector<int> indices;
  if (wanted.empty())
    for (int i = 0; i < count; ++i) indices.push_back(i);
  std::set<int> seen;
  for (int w : wanted) {
    if (w < -count || w >= count)
      throw Error(std::string(what) + " " + std::to_string(w) + " is out of range: the model has " + std::to_string(count) +
                  " " + what + "s, 0 to " + std::to_string(count - 1) + " (or -1 for the last)");
    const int index = w < 0 ? count + w : w;
    if (!seen.insert(index).second) throw Error(std::string(what) + " " + std::to_string(index) + " is listed twice");
    indices.push_back(index);
  }
  return indices;
}

AttentionMaps::AttentionMaps(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                             std::optional<std::string_view> text_pair, const AttentionSelection& selection)
    : model_(model) {
  layers_ = resolve_attention_indices(selection.layers, model.config().num_hidden_layers, "layer");
  heads_ = resolve_attention_indices(selection.heads, model.config().num_attention_heads, "head");
  encoding_ = tokenizer.encode(text, text_pair);
  EncoderOutput out = model.encode(single_batch(encoding_), /*keep_attentions=*/true);
  for (int l : layers_) probs_.push_back(std::move(out.attentions.at(static_cast<size_t>(l))));  // the others go with `out`
  // Checked now, a layer at a time, so that a bad model fails before any output; downloaded again when taken.
  for (size_t i = 0; i < probs_.size(); ++i) {
    const std::vector<float> maps = download(i);
    check_finite(maps.data(), maps.size());
  }
}

std::vector<float> AttentionMaps::download(size_t i) const {
  const Tensor& probs = probs_.at(i);
  if (probs.empty()) throw Error("attention layer " + std::to_string(layers_.at(i)) + " was already taken");
  const size_t map = static_cast<size_t>(tokens()) * static_cast<size_t>(tokens());  // T * T
  std::vector<float> all(static_cast<size_t>(probs.numel()));                        // (A, T, T)
  model_.backend().download(probs, all);
  if (heads_.size() == static_cast<size_t>(model_.config().num_attention_heads) && std::is_sorted(heads_.begin(), heads_.end()))
    return all;  // every head in order
  std::vector<float> chosen(heads_.size() * map);  // (selected heads, T, T)
  for (size_t h = 0; h < heads_.size(); ++h)
    std::memcpy(chosen.data() + h * map, all.data() + static_cast<size_t>(heads_[h]) * map, map * sizeof(float));
  return chosen;
}

std::vector<float> AttentionMaps::take_layer(size_t i) {
  std::vector<float> maps = download(i);
  probs_[i] = Tensor();  // frees the backend's copy
  return maps;
}

}  // namespace bertscope
