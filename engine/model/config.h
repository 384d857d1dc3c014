#pragma once
// BertConfig: the fields of a Hugging Face config.json that the engine uses, validated on load.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace bertscope {

struct BertConfig {
  int vocab_size = 0;
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int intermediate_size = 0;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;
  float layer_norm_eps = 1e-12f;
  int pad_token_id = 0;
  float hidden_dropout_prob = 0.1f;
  float attention_probs_dropout_prob = 0.1f;
  std::string hidden_act = "gelu";
  std::vector<std::string> architectures;
  std::map<int, std::string> id2label;  // empty when config.json has none

  int head_dim() const { return hidden_size / num_attention_heads; }

  // Throws Error naming the file and the field when something is missing or inconsistent.
  static BertConfig from_json(const nlohmann::json& j, const std::string& source);
  static BertConfig load(const std::filesystem::path& path);
  nlohmann::json to_json() const;
};

}  // namespace bertscope
