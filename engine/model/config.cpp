#include "model/config.h"

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

BertConfig BertConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw Error(source + ": expected a JSON object");
  if (j.contains("model_type") && j["model_type"].is_string() && j["model_type"] != "bert")
    throw Error(source + ": model_type is \"" + j["model_type"].get<std::string>() +
                "\"; bertscope runs BERT models (model_type \"bert\")");
  BertConfig c;
  c.vocab_size = read_positive_int(j, "vocab_size", source);
  c.hidden_size = read_positive_int(j, "hidden_size", source);
  c.num_hidden_layers = read_positive_int(j, "num_hidden_layers", source);
  c.num_attention_heads = read_positive_int(j, "num_attention_heads", source);
  c.intermediate_size = read_positive_int(j, "intermediate_size", source);
  c.max_position_embeddings = read_positive_int(j, "max_position_embeddings", source, 512);
  c.type_vocab_size = read_positive_int(j, "type_vocab_size", source, 2);
  if (c.hidden_size % c.num_attention_heads != 0)
    throw Error(source + ": hidden_size " + std::to_string(c.hidden_size) + " is not a multiple of num_attention_heads " +
                std::to_string(c.num_attention_heads));
  if (j.contains("layer_norm_eps") && j["layer_norm_eps"].is_number()) {
    const double eps = j["layer_norm_eps"].get<double>();
    if (!(eps > 0 && eps < 1)) throw Error(source + ": layer_norm_eps must be a small positive number, got " + describe_json(j["layer_norm_eps"]));
    c.layer_norm_eps = static_cast<float>(eps);
  }
  if (j.contains("pad_token_id") && j["pad_token_id"].is_number_integer()) c.pad_token_id = j["pad_token_id"].get<int>();
  if (j.contains("hidden_dropout_prob") && j["hidden_dropout_prob"].is_number())
    c.hidden_dropout_prob = j["hidden_dropout_prob"].get<float>();
  if (j.contains("attention_probs_dropout_prob") && j["attention_probs_dropout_prob"].is_number())
    c.attention_probs_dropout_prob = j["attention_probs_dropout_prob"].get<float>();
  if (j.contains("hidden_act")) {
    if (!j["hidden_act"].is_string()) throw Error(source + ": hidden_act must be a string");
    c.hidden_act = j["hidden_act"].get<std::string>();
    if (c.hidden_act != "gelu")
      throw Error(source + ": hidden_act \"" + c.hidden_act + "\" is not supported; bertscope implements \"gelu\" (exact erf)");
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
  return c;
}

BertConfig BertConfig::load(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw Error(path.string() + ": cannot open (a Hugging Face model folder needs config.json)");
  return from_json(read_json_file(path), path.string());
}

nlohmann::json BertConfig::to_json() const {
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
                      {"hidden_dropout_prob", hidden_dropout_prob},
                      {"attention_probs_dropout_prob", attention_probs_dropout_prob},
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

}  // namespace bertscope
