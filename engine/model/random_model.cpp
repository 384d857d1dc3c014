#include "model/random_model.h"

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safe_files.h"
#include "model/config.h"
#include "model/encoder.h"
#include "model/safetensors.h"
#include "text/vocab_file.h"

namespace fs = std::filesystem;

namespace bertscope {

namespace {

// table: [positions, hidden] row-major. Row p: sin(p / 10000^(2i/hidden)) in even columns, cos in odd ones (the
// Transformer paper's encoding), times std * sqrt(2) so a row has the root-mean-square of an N(0, std) row.
void fill_sinusoidal(std::vector<float>& table, int positions, int hidden, float std) {
  const double scale = std * std::sqrt(2.0);
  for (int p = 0; p < positions; ++p)
    for (int i = 0; i < hidden; i += 2) {
      const double angle = p / std::pow(10000.0, double(i) / hidden);
      table[size_t(p) * hidden + i] = float(scale * std::sin(angle));
      if (i + 1 < hidden) table[size_t(p) * hidden + i + 1] = float(scale * std::cos(angle));
    }
}

}  // namespace

void write_random_model(const fs::path& folder, const RandomModelSpec& spec) {
  if (spec.layers < 1 || spec.hidden < 1 || spec.heads < 1 || spec.intermediate < 1 || spec.max_positions < 1)
    throw Error("a model needs at least one layer, head, hidden unit, feed-forward unit and position");
  if (spec.hidden % spec.heads) throw Error("the hidden size must be a multiple of the number of heads");
  // Read with its bounds (entries, entry length, file size): the embedding table is sized from this count.
  const int vocab_size = static_cast<int>(read_vocab_txt(spec.vocab_file).size());

  ModelConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = spec.hidden;
  c.num_hidden_layers = spec.layers;
  c.num_attention_heads = spec.heads;
  c.intermediate_size = spec.intermediate;
  c.max_position_embeddings = spec.max_positions;
  if (!spec.labels.empty() && spec.question_answering) throw Error("a random model gets one head: labels or question answering");
  if (spec.token_classification && spec.labels.empty()) throw Error("a random token classifier needs its labels");
  c.architectures = {spec.token_classification ? "BertForTokenClassification"
                     : !spec.labels.empty() ? "BertForSequenceClassification"
                     : spec.question_answering ? "BertForQuestionAnswering" : "BertForMaskedLM"};
  for (size_t i = 0; i < spec.labels.size(); ++i) c.id2label[static_cast<int>(i)] = spec.labels[i];

  std::mt19937 rng(spec.seed);
  std::normal_distribution<float> normal(0.0f, spec.init_std);
  std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
  std::vector<std::vector<float>> data;
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, float fill = NAN) {
    std::vector<float> v(static_cast<size_t>(element_count(shape)));
    for (auto& x : v) x = std::isnan(fill) ? normal(rng) : fill;
    shapes.emplace_back(name, std::move(shape));
    data.push_back(std::move(v));
  };
  const int H = spec.hidden;
  const TensorNames& names = c.architecture().names;
  auto linear = [&](const std::string& p, int out, int in) { add(p + ".weight", {out, in}); add(p + ".bias", {out}, 0.0f); };
  auto norm = [&](const std::string& p) { add(p + ".weight", {H}, 1.0f); add(p + ".bias", {H}, 0.0f); };
  for (const EncoderTensorSpec& t : encoder_tensor_specs(c)) {
    switch (t.kind) {
      case ParamKind::Table:
      case ParamKind::Weight: add(t.name, t.shape); break;
      case ParamKind::NormWeight: add(t.name, t.shape, 1.0f); break;
      case ParamKind::Bias:
      case ParamKind::NormBias: add(t.name, t.shape, 0.0f); break;
    }
    if (spec.sinusoidal_positions && t.name == names.encoder(names.position))
      fill_sinusoidal(data.back(), c.max_position_embeddings, H, spec.init_std);
  }
  if (spec.token_classification) {
    linear(names.token_classifier, static_cast<int>(spec.labels.size()), H);
  } else if (!spec.labels.empty()) {
    linear(names.sequence_dense, H, H);
    linear(names.sequence_out, static_cast<int>(spec.labels.size()), H);
  } else if (spec.question_answering) {
    linear(names.question_answering, 2, H);
  } else {  // masked LM, decoder tied to the word embeddings
    linear(names.mlm_transform, H, H);
    norm(names.mlm_norm);
    add(names.mlm_bias, {vocab_size}, 0.0f);
  }

  StagedFolder staged(folder);  // refuses a folder that exists and is not empty
  const fs::path& tmp = staged.path();
  std::vector<StWriteTensor> tensors;
  for (size_t i = 0; i < shapes.size(); ++i) tensors.push_back({shapes[i].first, shapes[i].second, data[i]});
  write_safetensors(tmp / "model.safetensors", tensors, StDType::F32, {{"format", "pt"}});
  nlohmann::json config = c.to_json();
  if (spec.untrained_label) config["bertscope_untrained"] = true;
  write_file_atomically(tmp / "config.json", config_json_text(config));
  write_file_atomically(tmp / "tokenizer_config.json",
      nlohmann::json{{"do_lower_case", true}, {"model_max_length", 512}, {"tokenizer_class", "BertTokenizer"}}.dump(2) + "\n");
  fs::copy_file(spec.vocab_file, tmp / "vocab.txt");
  staged.commit();
}

}  // namespace bertscope
