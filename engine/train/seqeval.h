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

// Whether a tag set names entities: every tag is O or B-/I-/E-/S- + type. Part-of-speech tags (NOUN, VERB) are not:
// seqeval's strict mode refuses them, and its default mode misreads them (the first letter as the prefix, the rest
// as the type: "NOUN" is N + "OUN", so runs of equal tags become one chunk), so bertscope reports no entity
// scores for them, only token accuracy and per-tag scores.
bool is_entity_tag_set(const std::vector<std::string>& tags);
// Whether one tag names an entity part: B-/I-/E-/S- + type (O and plain tags do not).
bool is_entity_tag(const std::string& tag);
// Whether every tag is O, B-X or I-X (strict IOB2 scoring applies).
bool is_iob2_tag_set(const std::vector<std::string>& tags);

// Word tags of a token classifier against the truth, for any tag set.
struct TaggingReport {
  int sentences = 0;
  long long words = 0;                          // words scored
  long long words_not_scored = 0;               // predicted "" (cut by truncation): left out of every score
  bool entities = false;                        // entity scores apply (the tags are O / B-X / I-X ...)
  bool strict = false;                          // and were read as strict IOB2 (else conlleval's rules)
  SeqevalReport seqeval;                        // accuracy always; micro and per_type when `entities`
  std::map<std::string, EntityScores> per_tag;  // every tag as a class of words (support: true words)
};
// Predicted "" marks a word without a prediction (truncated away); such words leave both sides, as in run_ner.
// Strict IOB2 unless `lenient` or the tags use E-/S- (then seqeval's default mode).
TaggingReport score_word_tags(const std::vector<std::vector<std::string>>& truth,
                              const std::vector<std::vector<std::string>>& predicted, bool lenient = false);

}  // namespace bertscope
