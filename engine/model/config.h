#pragma once
// ModelConfig: the fields of a Hugging Face config.json that the engine uses, read with the model family's own
// field names (BERT's hidden_size is DistilBERT's dim) and validated on load. The whole file stays in `raw`, so
// whatever bertscope writes back keeps the fields it does not use.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/architecture.h"

namespace bertscope {

struct ModelConfig {
  std::string model_type = "bert";
  int vocab_size = 0;
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int intermediate_size = 0;
  int max_position_embeddings = 512;
  int type_vocab_size = 2;  // 0: the family has no token types (DistilBERT)
  float layer_norm_eps = 1e-12f;
  int pad_token_id = 0;
  std::string hidden_act = "gelu";  // "gelu" (exact erf) or "relu"
  // Fine-tuning: the sequence head's dropout when config.json sets one (DistilBERT's seq_classif_dropout 0.2).
  std::optional<float> classifier_dropout;
  // Fine-tuning question answering: the dropout before qa_outputs when the family has one (DistilBERT's qa_dropout;
  // Hugging Face's default 0.1 when config.json leaves it out); BERT's and RoBERTa's QA heads have no dropout.
  std::optional<float> qa_dropout;
  std::vector<std::string> architectures;
  std::map<int, std::string> id2label;  // empty when config.json has none
  nlohmann::json raw = nlohmann::json::object();

  int head_dim() const { return hidden_size / num_attention_heads; }
  const Architecture& architecture() const;
  bool has_token_types() const { return type_vocab_size > 0; }
  Activation activation() const { return hidden_act == "relu" ? Activation::Relu : Activation::Gelu; }
  // The first position id a sentence's first token gets (RoBERTa: padding_idx + 1), and so how many tokens fit.
  int first_position() const { return architecture().positions_after_padding ? pad_token_id + 1 : 0; }
  int max_tokens() const { return max_position_embeddings - first_position(); }
  // Hugging Face's position ids for one padded batch: (B*T). RoBERTa's come from the token ids alone, as
  // create_position_ids_from_input_ids makes them (padding tokens get padding_idx).
  std::vector<std::int32_t> position_ids(const std::vector<std::int32_t>& ids, int batch, int seq_len) const;
  // The token type ids the model sees: the tokenizer's, or all 0 for a family without token types (a WordPiece
  // pair still numbers its sentences; DistilBERT ignores that, as Hugging Face's does).
  std::vector<std::int32_t> type_ids(const std::vector<std::int32_t>& tokenizer_type_ids) const {
    return has_token_types() ? tokenizer_type_ids : std::vector<std::int32_t>(tokenizer_type_ids.size(), 0);
  }

  // Throws Error naming the file and the field when something is missing or inconsistent.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& source);
  static ModelConfig load(const std::filesystem::path& path);
  // A BERT config.json (for models bertscope creates).
  nlohmann::json to_json() const;
};

// config.json's text as bertscope writes it (2-space indent). A number that is exactly a 32-bit float, i.e. one that
// went through a float on its way here (0.1f read back as 0.10000000149011612), is written as that float's shortest
// decimal (0.1), as Hugging Face's own files read; every other number as it is.
std::string config_json_text(const nlohmann::json& config);

}  // namespace bertscope
