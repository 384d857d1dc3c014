#include "cli/json_output.h"

#include <algorithm>

namespace bertscope::cli {

nlohmann::json tokenize_json(const Encoding& e) {
  nlohmann::json tokens = nlohmann::json::array(), ids = nlohmann::json::array(), types = nlohmann::json::array(),
                 offsets = nlohmann::json::array();
  for (const Token& t : e.tokens) {
    tokens.push_back(t.text);
    ids.push_back(t.id);
    types.push_back(t.type_id);
    offsets.push_back({t.start, t.end});
  }
  nlohmann::json j = {{"tokens", tokens}, {"ids", ids}, {"type_ids", types}, {"offsets", offsets}};
  if (e.truncated_tokens > 0) j["truncated_tokens"] = e.truncated_tokens;
  if (e.truncated_at_least) j["truncated_tokens_at_least"] = true;  // the text was not read to its end
  return j;
}

nlohmann::json fill_mask_json(const FillMaskResult& r) {
  nlohmann::json per_mask = nlohmann::json::array();
  for (const auto& preds : r.predictions) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : preds)
      list.push_back({{"score", p.score}, {"token", p.token}, {"token_str", p.token_str}, {"sequence", p.sequence}});
    per_mask.push_back(list);
  }
  return per_mask.size() == 1 ? per_mask[0] : per_mask;
}

nlohmann::json qa_json(const QaResult& r, int top_k) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : r.answers)
    list.push_back({{"answer", a.answer}, {"score", a.score}, {"start", a.start}, {"end", a.end}});
  return top_k <= 1 && !list.empty() ? list[0] : list;
}

nlohmann::json classify_json(const ClassifyResult& r) {
  std::vector<LabelScore> sorted = r.scores;
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return a.score > b.score; });
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : sorted) list.push_back({{"label", s.label}, {"score", s.score}});
  return list;
}

nlohmann::json token_classification_json(const TokenClassifyResult& r) {
  nlohmann::json list = nlohmann::json::array();
  for (const TokenLabel& t : r.tokens)
    list.push_back({{"entity", t.entity}, {"score", t.score}, {"index", t.index}, {"word", t.word},
                    {"start", t.start}, {"end", t.end}});
  return list;
}

nlohmann::json entities_json(const EntityResult& r, Aggregation aggregation) {
  nlohmann::json list = nlohmann::json::array();
  for (const Entity& e : r.entities) {
    if (aggregation == Aggregation::None)
      list.push_back({{"entity", e.label}, {"score", e.score}, {"index", e.index}, {"word", e.word},
                      {"start", e.start}, {"end", e.end}});
    else
      list.push_back({{"entity_group", e.label}, {"score", e.score}, {"word", e.word}, {"start", e.start}, {"end", e.end}});
  }
  return list;
}

nlohmann::json nsp_json(const NspResult& r) {
  return {{"is_next", r.is_next}, {"not_next", 1.0 - r.is_next}, {"logits", r.logits}};
}

nlohmann::json info_json(const ModelInfo& i) {
  nlohmann::json j = {{"folder", i.folder.string()},     {"architecture", i.architecture}, {"model_type", i.model_type},
                      {"heads", i.heads},                {"num_hidden_layers", i.layers},
                      {"hidden_size", i.hidden},         {"num_attention_heads", i.attention_heads},
                      {"intermediate_size", i.intermediate}, {"vocab_size", i.vocab},
                      {"max_position_embeddings", i.max_positions}, {"parameters", i.parameters},
                      {"file_bytes", i.file_bytes},      {"dtype", i.dtype},
                      {"backend", i.backend},            {"load_ms", i.load_ms},
                      {"untrained", i.untrained}};
  if (!i.backend_note.empty()) j["backend_note"] = i.backend_note;
  if (!i.backend_warning.empty()) j["backend_warning"] = i.backend_warning;
  if (!i.self_check.empty()) j["gpu_self_check"] = i.self_check;
  return j;
}

}  // namespace bertscope::cli
