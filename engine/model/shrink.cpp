#include "model/shrink.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model_folder.h"
#include "model/pretrained.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "text/tokenizer.h"

namespace fs = std::filesystem;

namespace bertscope {

namespace {

bool always_kept(const std::string& token) {
  const bool special = token.size() > 2 && token.front() == '[' && token.back() == ']';
  const std::string_view piece = token.rfind("##", 0) == 0 ? std::string_view(token).substr(2) : std::string_view(token);
  size_t code_points = 0;  // one UTF-8 character: a lead byte and its continuation bytes
  for (unsigned char c : piece) code_points += (c & 0xC0) != 0x80;
  return special || code_points == 1;
}

// The ids to keep, ascending (the special tokens stay first): every always-kept token, then the most used.
std::vector<std::int32_t> tokens_to_keep(const Tokenizer& tokenizer, const fs::path& corpus, int keep, double* retokenized) {
  std::vector<std::int64_t> count(tokenizer.vocab_size(), 0);
  std::ifstream in(corpus);
  if (!in) throw Error(corpus.string() + ": cannot open the corpus to count tokens on");
  for (std::string line; std::getline(in, line);)
    for (const Token& t : tokenizer.tokenize(line)) ++count[static_cast<size_t>(t.id)];
  std::vector<std::int32_t> kept, others;
  for (std::int32_t id = 0; id < static_cast<std::int32_t>(count.size()); ++id)
    (always_kept(tokenizer.token(id)) ? kept : others).push_back(id);
  if (static_cast<int>(kept.size()) > keep)
    throw Error("a vocabulary of " + std::to_string(keep) + " cannot hold the " + std::to_string(kept.size()) +
                " special and single-character tokens");
  std::stable_sort(others.begin(), others.end(), [&](auto a, auto b) { return count[size_t(a)] > count[size_t(b)]; });
  const size_t more = std::min(others.size(), static_cast<size_t>(keep) - kept.size());
  kept.insert(kept.end(), others.begin(), others.begin() + static_cast<std::ptrdiff_t>(more));
  std::int64_t dropped = 0;
  for (size_t i = more; i < others.size(); ++i) dropped += count[size_t(others[i])];
  const std::int64_t total = std::accumulate(count.begin(), count.end(), std::int64_t{0});
  *retokenized = total > 0 ? double(dropped) / double(total) : 0.0;
  std::sort(kept.begin(), kept.end());
  return kept;
}

// The neurons of one feed-forward block to keep, ascending. w_in: [I, H] (intermediate.dense), w_out: [H, I].
std::vector<std::int32_t> neurons_to_keep(std::span<const float> w_in, std::span<const float> w_out, int I, int H, int keep) {
  const size_t n = static_cast<size_t>(I);
  std::vector<double> score(n, 0.0), in_sq(n, 0.0), out_sq(n, 0.0);
  for (int j = 0; j < I; ++j)
    for (int h = 0; h < H; ++h) in_sq[j] += double(w_in[size_t(j) * H + h]) * w_in[size_t(j) * H + h];
  for (int h = 0; h < H; ++h)
    for (int j = 0; j < I; ++j) out_sq[j] += double(w_out[size_t(h) * I + j]) * w_out[size_t(h) * I + j];
  for (int j = 0; j < I; ++j) score[j] = std::sqrt(in_sq[j] * out_sq[j]);
  std::vector<std::int32_t> order(static_cast<size_t>(I));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return score[size_t(a)] > score[size_t(b)]; });
  order.resize(size_t(keep));
  std::sort(order.begin(), order.end());
  return order;
}

// rows: [R, C] -> [keep.size(), C]; columns: [R, C] -> [R, keep.size()]; a vector is one row of length R.
std::vector<float> take_rows(std::span<const float> x, std::int64_t C, const std::vector<std::int32_t>& keep) {
  std::vector<float> y;
  y.reserve(keep.size() * size_t(C));
  for (auto r : keep) y.insert(y.end(), x.begin() + r * C, x.begin() + (r + 1) * C);
  return y;
}
std::vector<float> take_columns(std::span<const float> x, std::int64_t R, std::int64_t C, const std::vector<std::int32_t>& keep) {
  std::vector<float> y;
  y.reserve(size_t(R) * keep.size());
  for (std::int64_t r = 0; r < R; ++r)
    for (auto c : keep) y.push_back(x[size_t(r * C + c)]);
  return y;
}

}  // namespace

ShrinkReport shrink_model(const fs::path& in, const fs::path& out, const ShrinkOptions& o) {
  const Pretrained pretrained = open_pretrained(in);
  const ModelConfig& config = pretrained.config;
  const Tokenizer& tokenizer = *pretrained.tokenizer;
  const Architecture& arch = config.architecture();
  const TensorNames& n = arch.names;
  const Checkpoint ckpt(in);
  ShrinkReport report;
  report.vocab_before = config.vocab_size;
  report.intermediate_before = config.intermediate_size;
  report.parameters_before = ckpt.parameter_count();
  if (o.vocab_size < 0 || o.intermediate < 0) throw Error("shrink: sizes cannot be negative");
  if (o.vocab_size > 0 && o.corpus.empty()) throw Error("a new vocabulary size needs a corpus (which tokens are used)");
  if (o.vocab_size > 0 && arch.tokenizer != TokenizerFamily::WordPiece)
    throw Error("shrink cuts WordPiece vocabularies only; a " + config.model_type + " model keeps its vocabulary");
  if (o.vocab_size > config.vocab_size || o.intermediate > config.intermediate_size)
    throw Error("shrink makes a model smaller: it has " + std::to_string(config.vocab_size) + " tokens and " +
                std::to_string(config.intermediate_size) + " feed-forward neurons a layer");
  if (static_cast<int>(tokenizer.vocab_size()) != config.vocab_size)
    throw Error(in.string() + ": vocab.txt has " + std::to_string(tokenizer.vocab_size()) + " tokens, config.json says " +
                std::to_string(config.vocab_size));

  std::vector<std::int32_t> tokens(static_cast<size_t>(config.vocab_size));
  std::iota(tokens.begin(), tokens.end(), 0);
  if (o.vocab_size > 0) tokens = tokens_to_keep(tokenizer, o.corpus, o.vocab_size, &report.corpus_tokens_retokenized);
  const int I = config.intermediate_size, H = config.hidden_size, V = config.vocab_size;
  const int new_I = o.intermediate > 0 ? o.intermediate : I;

  auto all = ckpt.read_all();  // stored name -> shape and values; reshaped in place below
  // Vocabulary: every tensor with a row per token (embeddings, a stored decoder) or an entry per token (biases).
  std::set<std::string> per_token_names;
  for (const std::string& canonical : {n.encoder(n.word), n.mlm_decoder, n.mlm_bias, n.mlm_bias_alias})
    if (auto stored = canonical.empty() ? std::nullopt : ckpt.resolve(canonical)) per_token_names.insert(*stored);
  for (auto& [name, tensor] : all) {
    auto& [s, values] = tensor;
    const bool per_token = !s.empty() && s[0] == V && per_token_names.count(name);
    if (!per_token) continue;
    const std::int64_t C = s.size() == 2 ? s[1] : 1;
    values = take_rows(values, C, tokens);
    s[0] = static_cast<std::int64_t>(tokens.size());
  }
  // Feed-forward neurons, layer by layer.
  if (new_I != I)
    for (int l = 0; l < config.num_hidden_layers; ++l) {
      const auto w_in = ckpt.resolve(n.in_layer(l, n.intermediate + ".weight"));
      const auto b_in = ckpt.resolve(n.in_layer(l, n.intermediate + ".bias"));
      const auto w_out = ckpt.resolve(n.in_layer(l, n.output + ".weight"));
      if (!w_in || !b_in || !w_out) throw Error(in.string() + ": layer " + std::to_string(l) + " has no feed-forward weights");
      LoadedTensor &in_w = all[*w_in], &in_b = all[*b_in], &out_w = all[*w_out];
      const auto keep = neurons_to_keep(in_w.values, out_w.values, I, H, new_I);
      in_w = {{new_I, H}, take_rows(in_w.values, H, keep)};
      in_b = {{new_I}, take_rows(in_b.values, 1, keep)};
      out_w = {{H, new_I}, take_columns(out_w.values, H, I, keep)};
    }

  std::vector<StWriteTensor> tensors;
  for (const auto& [name, tensor] : all) {
    tensors.push_back({name, tensor.shape, tensor.values});
    report.parameters_after += static_cast<std::int64_t>(tensor.values.size());
  }
  StagedFolder folder(out);  // refuses a folder that exists and is not empty
  const fs::path& tmp = folder.path();
  write_safetensors(tmp / "model.safetensors", tensors, o.dtype, {{"format", "pt"}});
  nlohmann::json j = read_json_file(in / "config.json");
  j["vocab_size"] = static_cast<int>(tokens.size());
  j[arch.fields.intermediate] = new_I;
  write_file_atomically(tmp / "config.json", config_json_text(j));
  if (o.vocab_size > 0) {
    std::string vocab;
    for (auto id : tokens) vocab += tokenizer.token(id) + "\n";
    write_file_atomically(tmp / "vocab.txt", vocab);
    for (const char* file : {"tokenizer_config.json", "special_tokens_map.json"})  // tokenizer.json would be stale
      if (fs::exists(in / file)) fs::copy_file(in / file, tmp / file);
  } else {
    copy_tokenizer_files(in, tmp);  // the vocabulary is unchanged: every tokenizer file still holds
  }
  folder.commit();
  report.vocab_after = static_cast<int>(tokens.size());
  report.intermediate_after = new_I;
  return report;
}

}  // namespace bertscope
