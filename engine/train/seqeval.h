#pragma once
// Entity-level scores of tagged sequences, as the seqeval package computes them (what Hugging Face's run_ner
// example reports): entities are spans of B-/I- tags, and a predicted entity counts only when its type and both
// ends match a true one. Two ways to read spans:
// - strict IOB2 (seqeval's mode="strict", scheme=IOB2): an entity is B-X then any I-X; a stray I-X is no entity;
// - lenient (seqeval's default, conlleval's rules): an I-X after O or another type also starts an entity.
#include <map>
#include <string>
#include <vector>

namespace bertscope {

struct EntitySpan {
  std::string type;    // "PER" of B-PER / I-PER
  int begin = 0;       // first tag's index
  int end = 0;         // last tag's index (inclusive, as seqeval's get_entities)
  bool operator==(const EntitySpan&) const = default;
};

// The entities of one sentence's tags. Throws Error for a tag that is neither O nor B-/I-/E-/S- + type.
std::vector<EntitySpan> entity_spans(const std::vector<std::string>& tags, bool strict);

struct EntityScores {
  double precision = 0, recall = 0, f1 = 0;  // 0 where undefined (seqeval's zero_division default)
  int support = 0;                           // true entities
  int predicted = 0, correct = 0;
};

struct SeqevalReport {
  EntityScores micro;                          // over every entity
  std::map<std::string, EntityScores> per_type;  // each type seen in the truth or the predictions
  double accuracy = 0;                         // tags equal, over every tag (seqeval's accuracy_score)
};

// Sentence by sentence: truth[i] and predicted[i] must have the same length (Error otherwise).
SeqevalReport seqeval(const std::vector<std::vector<std::string>>& truth,
                      const std::vector<std::vector<std::string>>& predicted, bool strict = true);

}  // namespace bertscope
