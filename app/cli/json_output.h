#pragma once
// JSON shapes of the CLI's answers, with the field names of Hugging Face's pipelines.
#include <nlohmann/json.hpp>

#include "session.h"
#include "tasks/tasks.h"

namespace bertscope::cli {

nlohmann::json tokenize_json(const Encoding& e);
nlohmann::json fill_mask_json(const FillMaskResult& r);  // one list per mask; a single mask gives a flat list
nlohmann::json qa_json(const QaResult& r, int top_k);    // top_k 1 gives one object
nlohmann::json classify_json(const ClassifyResult& r);   // every label, best first
// Every token's label, as Hugging Face's token-classification pipeline with aggregation "none" and no ignored labels.
nlohmann::json token_classification_json(const TokenClassifyResult& r);
// Entities with Hugging Face's field names: entity/score/index/word/start/end for aggregation none, entity_group
// instead of entity (and no index) for the others.
nlohmann::json entities_json(const EntityResult& r, Aggregation aggregation);
nlohmann::json nsp_json(const NspResult& r);
nlohmann::json info_json(const ModelInfo& info);

}  // namespace bertscope::cli
