#include "train/seqeval.h"

#include <set>

#include "core/error.h"

namespace bertscope {
namespace {

struct Tag {
  char prefix;       // 'O', 'B', 'I', 'E', 'S'
  std::string type;  // "" for O
};

Tag parse_tag(const std::string& tag, bool strict) {
  if (tag == "O") return {'O', ""};
  const std::string allowed = strict ? "BI" : "BIES";
  if (tag.size() < 3 || tag[1] != '-' || allowed.find(tag[0]) == std::string::npos)
    throw Error("tag \"" + tag + "\" is neither O nor " + (strict ? "B-/I-" : "B-/I-/E-/S-") + " followed by a type");
  return {tag[0], tag.substr(2)};
}

// conlleval's chunk boundaries, as seqeval's end_of_chunk / start_of_chunk.
bool ends_chunk(const Tag& prev, const Tag& tag) {
  if (prev.prefix == 'E' || prev.prefix == 'S') return true;
  if ((prev.prefix == 'B' || prev.prefix == 'I') && (tag.prefix == 'B' || tag.prefix == 'S' || tag.prefix == 'O')) return true;
  return prev.prefix != 'O' && prev.type != tag.type;
}

bool starts_chunk(const Tag& prev, const Tag& tag) {
  if (tag.prefix == 'B' || tag.prefix == 'S') return true;
  if ((prev.prefix == 'E' || prev.prefix == 'S' || prev.prefix == 'O') && (tag.prefix == 'E' || tag.prefix == 'I')) return true;
  return tag.prefix != 'O' && prev.type != tag.type;
}

void score(EntityScores& s) {
  s.precision = s.predicted ? double(s.correct) / s.predicted : 0.0;
  s.recall = s.support ? double(s.correct) / s.support : 0.0;
  s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
}

}  // namespace

std::vector<EntitySpan> entity_spans(const std::vector<std::string>& tags, bool strict) {
  std::vector<EntitySpan> spans;
  if (strict) {  // IOB2: B-X opens, I-X of the same type continues, anything else closes
    int open = -1;
    std::string type;
    auto close = [&](int last) {
      if (open >= 0) spans.push_back({type, open, last});
      open = -1;
    };
    for (int i = 0; i < static_cast<int>(tags.size()); ++i) {
      const Tag t = parse_tag(tags[static_cast<size_t>(i)], true);
      if (t.prefix == 'I' && open >= 0 && t.type == type) continue;
      close(i - 1);
      if (t.prefix == 'B') {
        open = i;
        type = t.type;
      }
    }
    close(static_cast<int>(tags.size()) - 1);
    return spans;
  }
  Tag prev{'O', ""};
  int begin = 0;
  for (int i = 0; i <= static_cast<int>(tags.size()); ++i) {  // one O past the end closes the last chunk
    const Tag t = i < static_cast<int>(tags.size()) ? parse_tag(tags[static_cast<size_t>(i)], false) : Tag{'O', ""};
    if (ends_chunk(prev, t)) spans.push_back({prev.type, begin, i - 1});
    if (starts_chunk(prev, t)) begin = i;
    prev = t;
  }
  return spans;
}

SeqevalReport seqeval(const std::vector<std::vector<std::string>>& truth,
                      const std::vector<std::vector<std::string>>& predicted, bool strict) {
  if (truth.size() != predicted.size())
    throw Error("seqeval: " + std::to_string(truth.size()) + " true sentences but " + std::to_string(predicted.size()) +
                " predicted");
  SeqevalReport r;
  long long tags = 0, equal = 0;
  for (size_t s = 0; s < truth.size(); ++s) {
    if (truth[s].size() != predicted[s].size())
      throw Error("seqeval: sentence " + std::to_string(s + 1) + " has " + std::to_string(truth[s].size()) +
                  " true tags but " + std::to_string(predicted[s].size()) + " predicted");
    for (size_t i = 0; i < truth[s].size(); ++i) equal += truth[s][i] == predicted[s][i];
    tags += static_cast<long long>(truth[s].size());
    const std::vector<EntitySpan> want = entity_spans(truth[s], strict), got = entity_spans(predicted[s], strict);
    for (const EntitySpan& e : want) ++r.per_type[e.type].support;
    for (const EntitySpan& e : got) {
      EntityScores& t = r.per_type[e.type];
      ++t.predicted;
      for (const EntitySpan& w : want) t.correct += w == e;
    }
  }
  for (auto& [type, s] : r.per_type) {
    score(s);
    r.micro.support += s.support;
    r.micro.predicted += s.predicted;
    r.micro.correct += s.correct;
  }
  score(r.micro);
  r.accuracy = tags ? double(equal) / tags : 0.0;
  return r;
}

namespace {
bool prefixed(const std::string& tag, const char* prefixes) {
  return tag.size() >= 3 && tag[1] == '-' && std::string(prefixes).find(tag[0]) != std::string::npos;
}
}  // namespace

bool is_entity_tag(const std::string& tag) { return prefixed(tag, "BIES"); }

bool is_entity_tag_set(const std::vector<std::string>& tags) {
  for (const std::string& t : tags)
    if (t != "O" && !is_entity_tag(t)) return false;
  return true;
}

bool is_iob2_tag_set(const std::vector<std::string>& tags) {
  for (const std::string& t : tags)
    if (t != "O" && !prefixed(t, "BI")) return false;
  return true;
}

TaggingReport score_word_tags(const std::vector<std::vector<std::string>>& truth,
                              const std::vector<std::vector<std::string>>& predicted, bool lenient) {
  if (truth.size() != predicted.size())
    throw Error("score_word_tags: " + std::to_string(truth.size()) + " true sentences but " +
                std::to_string(predicted.size()) + " predicted");
  TaggingReport r;
  r.sentences = static_cast<int>(truth.size());
  std::vector<std::vector<std::string>> want(truth.size()), got(truth.size());
  std::set<std::string> tags;
  for (size_t s = 0; s < truth.size(); ++s) {
    if (truth[s].size() != predicted[s].size())
      throw Error("score_word_tags: sentence " + std::to_string(s + 1) + " has " + std::to_string(truth[s].size()) +
                  " true tags but " + std::to_string(predicted[s].size()) + " predicted");
    for (size_t w = 0; w < truth[s].size(); ++w) {
      if (predicted[s][w].empty()) {
        ++r.words_not_scored;
        continue;
      }
      want[s].push_back(truth[s][w]);
      got[s].push_back(predicted[s][w]);
      tags.insert(truth[s][w]);
      tags.insert(predicted[s][w]);
      ++r.per_tag[truth[s][w]].support;
      ++r.per_tag[predicted[s][w]].predicted;
      r.per_tag[truth[s][w]].correct += truth[s][w] == predicted[s][w];
    }
    r.words += static_cast<long long>(want[s].size());
  }
  for (auto& [tag, scores] : r.per_tag) score(scores);
  const std::vector<std::string> tag_list(tags.begin(), tags.end());
  r.entities = is_entity_tag_set(tag_list);
  r.strict = r.entities && !lenient && is_iob2_tag_set(tag_list);
  if (r.entities) {
    r.seqeval = seqeval(want, got, r.strict);
  } else {  // accuracy only: entity spans mean nothing here
    long long equal = 0;
    for (size_t s = 0; s < want.size(); ++s)
      for (size_t w = 0; w < want[s].size(); ++w) equal += want[s][w] == got[s][w];
    r.seqeval.accuracy = r.words ? double(equal) / double(r.words) : 0.0;
  }
  return r;
}

}  // namespace bertscope
