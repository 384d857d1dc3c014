#include "tasks/attention_maps.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <set>
#include <string>

#include "core/error.h"
#include "core/json_io.h"
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

// ---- files ----

namespace {
nlohmann::json token_texts(const AttentionLayers& maps) {
  nlohmann::json tokens = nlohmann::json::array();
  for (const Token& t : maps.encoding().tokens) tokens.push_back(t.text);
  return tokens;
}
}  // namespace

void write_attention_json(AttentionLayers& maps, bool with_indices, std::ostream& out, const AttentionProgress& progress) {
  const size_t T = static_cast<size_t>(maps.tokens()), H = maps.heads().size();
  nlohmann::json rest = {{"tokens", token_texts(maps)}, {"layers", maps.layers().size()}, {"heads", H}};
  if (with_indices) {
    rest["layer_indices"] = maps.layers();
    rest["head_indices"] = maps.heads();
  }
  // nlohmann orders keys alphabetically and "attentions" comes first: written ahead of the rest, the line is the
  // text dump() gives for the whole document, without ever holding it.
  out << "{\"attentions\":[";
  nlohmann::json row(std::vector<float>(T, 0.0f));  // one row of a map, reused: its T numbers
  auto& cells = row.get_ref<nlohmann::json::array_t&>();
  for (size_t l = 0; l < maps.layers().size(); ++l) {
    const std::vector<float> layer = maps.take_layer(l);  // (H, T, T)
    out << (l ? ",[" : "[");
    for (size_t h = 0; h < H; ++h) {
      out << (h ? ",[" : "[");
      for (size_t q = 0; q < T; ++q) {
        const float* p = layer.data() + (h * T + q) * T;
        for (size_t k = 0; k < T; ++k) cells[k] = p[k];
        if (q) out << ',';
        out << row.dump();
      }
      out << ']';
    }
    out << ']';
    if (progress) progress(l + 1);
  }
  out << "]," << dump_json(rest).substr(1);  // the other keys, after the '{'
}

std::string npy_header(const std::vector<size_t>& shape) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ',';  // a Python tuple of one: (5,)
  const char* descr = std::endian::native == std::endian::little ? "<f4" : ">f4";
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t prefix = 10;  // magic (6), version (2), header length (2)
  dict.append(63 - (prefix + dict.size()) % 64, ' ');
  dict += '\n';  // now prefix + dict.size() is a multiple of 64
  std::string header = "\x93NUMPY";
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  return header + dict;
}

void write_attention_npy(AttentionLayers& maps, std::ostream& out, const AttentionProgress& progress) {
  const size_t T = static_cast<size_t>(maps.tokens());
  out << npy_header({maps.layers().size(), maps.heads().size(), T, T});
  for (size_t l = 0; l < maps.layers().size(); ++l) {
    const std::vector<float> layer = maps.take_layer(l);  // (H, T, T), float32 in the machine's byte order
    out.write(reinterpret_cast<const char*>(layer.data()), static_cast<std::streamsize>(layer.size() * sizeof(float)));
    if (progress) progress(l + 1);
  }
}

nlohmann::json attention_sidecar(const AttentionLayers& maps, const std::string& npy_name) {
  const size_t T = static_cast<size_t>(maps.tokens());
  return {{"npy", npy_name},
          {"shape", {maps.layers().size(), maps.heads().size(), T, T}},
          {"dtype", "float32"},
          {"axes", {"layer", "head", "query", "key"}},
          {"layer_indices", maps.layers()},
          {"head_indices", maps.heads()},
          {"tokens", token_texts(maps)}};
}

}  // namespace bertscope
