#include "model/config.h"

#include <charconv>
#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"

namespace bertscope {
namespace {

int read_positive_int(const nlohmann::json& j, const char* key, const std::string& source, int fallback = -1) {
  if (!j.contains(key)) {
    if (fallback >= 0) return fallback;
    throw Error(source + ": missing field \"" + key + "\"");
  }
  const auto& v = j.at(key);
  if (!v.is_number_integer() || v.get<long long>() <= 0 || v.get<long long>() > (1 << 24))
    throw Error(source + ": \"" + key + "\" must be a positive integer, got " + describe_json(v));
  return v.get<int>();
}

}  // namespace

const Architecture& ModelConfig::architecture() const { return architecture_for(model_type, "config.json"); }

std::vector<std::int32_t> ModelConfig::position_ids(const std::vector<std::int32_t>& ids, int batch, int seq_len) const {
  std::vector<std::int32_t> positions(ids.size());
  const bool after_padding = architecture().positions_after_padding;
  for (int b = 0; b < batch; ++b) {
    std::int32_t real = 0;  // RoBERTa: real tokens count up from padding_idx + 1, padding tokens sit at padding_idx
    for (int t = 0; t < seq_len; ++t) {
      const size_t i = static_cast<size_t>(b) * seq_len + t;
      if (!after_padding) positions[i] = t;
      else positions[i] = ids[i] == pad_token_id ? pad_token_id : pad_token_id + ++real;
    }
  }
  return positions;
}

ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  ModelConfig c;
  if (j.contains("model_type")) {
    if (!j["model_type"].is_string()) throw Error(source + ": model_type must be a string");
    c.model_type = j["model_type"].get<std::string>();
  }
  const Architecture& arch = architecture_for(c.model_type, source);
  const ConfigFieldNames& f = arch.fields;
  c.vocab_size = read_positive_int(j, "vocab_size", source);
  c.hidden_size = read_positive_int(j, f.hidden.c_str(), source);
  c.num_hidden_layers = read_positive_int(j, f.layers.c_str(), source);
  c.num_attention_heads = read_positive_int(j, f.heads.c_str(), source);
  c.intermediate_size = read_positive_int(j, f.intermediate.c_str(), source);
  c.max_position_embeddings = read_positive_int(j, "max_position_embeddings", source, 512);
  c.type_vocab_size = f.type_vocab_size.empty() ? 0 : read_positive_int(j, f.type_vocab_size.c_str(), source, 2);
  if (c.hidden_size % c.num_attention_heads != 0)
    throw Error(source + ": " + f.hidden + " " + std::to_string(c.hidden_size) + " is not a multiple of " + f.heads +
                " " + std::to_string(c.num_attention_heads));
  c.layer_norm_eps = arch.fixed_layer_norm_eps;
  if (!f.layer_norm_eps.empty() && j.contains(f.layer_norm_eps) && j[f.layer_norm_eps].is_number()) {
    const double eps = j[f.layer_norm_eps].get<double>();
    if (!(eps > 0 && eps < 1)) throw Error(source + ": layer_norm_eps must be a small positive number, got " + describe_json(j[f.layer_norm_eps]));
    c.layer_norm_eps = static_cast<float>(eps);
  }
  if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) {
    c.pad_token_id = j["pad_token_id"].get<int>();
    if (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size)
      throw Error(source + ": pad_token_id " + std::to_string(c.pad_token_id) + " is outside the vocabulary");
  }
  if (c.max_tokens() < 3)
    throw Error(source + ": max_position_embeddings " + std::to_string(c.max_position_embeddings) + " leaves no room for a sentence");
  if (!f.classifier_dropout.empty() && j.contains(f.classifier_dropout) && !j[f.classifier_dropout].is_null()) {
    const auto& v = j[f.classifier_dropout];
    if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() < 1))
      throw Error(source + ": " + f.classifier_dropout + " must be a number in [0, 1), got " + describe_json(v));
    c.classifier_dropout = v.get<float>();
  }
  if (!f.qa_dropout.empty()) {
    c.qa_dropout = 0.1f;  // DistilBertConfig's default
    if (j.contains(f.qa_dropout)) {
      const auto& v = j[f.qa_dropout];
      if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() < 1))
        throw Error(source + ": " + f.qa_dropout + " must be a number in [0, 1), got " + describe_json(v));
      c.qa_dropout = v.get<float>();
    }
  }
  if (j.contains(f.activation)) {
    if (!j[f.activation].is_string()) throw Error(source + ": " + f.activation + " must be a string");
    c.hidden_act = j[f.activation].get<std::string>();
    if (c.hidden_act != "gelu" && c.hidden_act != "relu")
      throw Error(source + ": " + f.activation + " \"" + c.hidden_act +
                  "\" is not supported; bertscope implements \"gelu\" (exact erf) and \"relu\"");
  }
  if (j.contains("architectures") && j["architectures"].is_array())
    for (const auto& a : j["architectures"])
      if (a.is_string()) c.architectures.push_back(a.get<std::string>());
  if (j.contains("id2label") && j["id2label"].is_object()) {
    for (const auto& [k, v] : j["id2label"].items()) {
      try {
        c.id2label[std::stoi(k)] = v.is_string() ? v.get<std::string>() : describe_json(v);
      } catch (const std::exception&) {
        throw Error(source + ": id2label key \"" + k + "\" is not an integer");
      }
    }
  }
  c.raw = j;
  return c;
}

ModelConfig ModelConfig::load(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw Error(path.string() + ": cannot open (a Hugging Face model folder needs config.json)");
  return from_json(read_json_file(path), path.string());
}

nlohmann::json ModelConfig::to_json() const {
  if (model_type != "bert") throw Error("internal: to_json writes BERT configs only");
  nlohmann::json j = {{"model_type", "bert"},
                      {"vocab_size", vocab_size},
                      {"hidden_size", hidden_size},
                      {"num_hidden_layers", num_hidden_layers},
                      {"num_attention_heads", num_attention_heads},
                      {"intermediate_size", intermediate_size},
                      {"max_position_embeddings", max_position_embeddings},
                      {"type_vocab_size", type_vocab_size},
                      {"layer_norm_eps", layer_norm_eps},
                      {"pad_token_id", pad_token_id},
                      {"hidden_act", hidden_act},
                      {"hidden_dropout_prob", 0.1},
                      {"attention_probs_dropout_prob", 0.1},
                      {"architectures", architectures}};
  if (!id2label.empty()) {
    nlohmann::json i2l = nlohmann::json::object(), l2i = nlohmann::json::object();
    for (const auto& [id, label] : id2label) {
      i2l[std::to_string(id)] = label;
      l2i[label] = id;
    }
    j["id2label"] = i2l;
    j["label2id"] = l2i;
  }
  return j;
}

namespace {
// The value with each float-born number replaced by the shortest decimal of its float (see config_json_text).
nlohmann::json with_short_floats(nlohmann::json value) {
  if (value.is_structured()) {
    for (auto& item : value) item = with_short_floats(std::move(item));
  } else if (value.is_number_float()) {
    const double d = value.get<double>();
    const float f = static_cast<float>(d);
    if (std::isfinite(d) && static_cast<double>(f) == d) {
      char text[32];
      const char* end = std::to_chars(text, text + sizeof text, f).ptr;  // the shortest that reads back as f
      double shortest = d;
      std::from_chars(text, end, shortest);  // not strtod: the locale's decimal comma must not count
      value = shortest;
    }
  }
  return value;
}
}  // namespace

std::string config_json_text(const nlohmann::json& config) { return with_short_floats(config).dump(2) + "\n"; }

}  // namespace bertscope
