// Named entities as Hugging Face's TokenClassificationPipeline finds them: softmax per token, special tokens skipped,
// words rebuilt from subword pieces (first / average / max), B-/I- tags grouped into entities, ignored labels dropped,
// and long texts read in overlapping windows whose entities are merged.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "tasks/tasks.h"
#include "text/unicode.h"

namespace bertscope {

std::optional<Aggregation> parse_aggregation(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (Aggregation a : {Aggregation::None, Aggregation::Simple, Aggregation::First, Aggregation::Average, Aggregation::Max})
    if (aggregation_name(a) == lower) return a;
  return std::nullopt;
}

std::string aggregation_name(Aggregation a) {
  switch (a) {
    case Aggregation::None: return "none";
    case Aggregation::Simple: return "simple";
    case Aggregation::First: return "first";
    case Aggregation::Average: return "average";
    case Aggregation::Max: return "max";
  }
  return "none";
}

namespace {

size_t argmax(const std::vector<double>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// One word from its pieces (the pipeline's aggregate_word).
Entity aggregate_word(const std::vector<const PreEntity*>& pieces, Aggregation how,
                      const std::map<int, std::string>& id2label, const Tokenizer& tokenizer) {
  std::vector<std::string> words;
  for (const PreEntity* p : pieces) words.push_back(p->word);
  std::vector<double> scores;
  if (how == Aggregation::First) {
    scores = pieces.front()->scores;
  } else if (how == Aggregation::Max) {  // the piece with the most confident label decides
    const PreEntity* best = *std::max_element(pieces.begin(), pieces.end(), [](const PreEntity* a, const PreEntity* b) {
      return *std::max_element(a->scores.begin(), a->scores.end()) < *std::max_element(b->scores.begin(), b->scores.end());
    });
    scores = best->scores;
  } else {  // Average: the mean of the pieces' label distributions
    scores.assign(pieces.front()->scores.size(), 0.0);
    for (const PreEntity* p : pieces)
      for (size_t i = 0; i < scores.size(); ++i) scores[i] += p->scores[i] / static_cast<double>(pieces.size());
  }
  const size_t best = argmax(scores);
  Entity e;
  e.label = id2label.at(static_cast<int>(best));
  e.score = scores[best];
  e.word = tokenizer.tokens_to_string(words);
  e.start = pieces.front()->start;
  e.end = pieces.back()->end;
  for (const PreEntity* p : pieces) e.tokens.push_back(p->token);
  return e;
}

// "B-PER" -> (B, PER); "I-PER" -> (I, PER); anything else continues: (I, label).
std::pair<char, std::string> bio_tag(const std::string& label) {
  if (label.rfind("B-", 0) == 0) return {'B', label.substr(2)};
  if (label.rfind("I-", 0) == 0) return {'I', label.substr(2)};
  return {'I', label};
}

// Adjacent tokens or words with the same tag, one entity (the pipeline's group_sub_entities).
Entity group(const std::vector<Entity>& members, const Tokenizer& tokenizer) {
  Entity g;
  const std::string& first = members.front().label;
  g.label = first.substr(first.rfind('-') == std::string::npos ? 0 : first.rfind('-') + 1);  // split("-")[-1]
  double sum = 0;
  std::vector<std::string> words;
  for (const Entity& m : members) {
    sum += m.score;
    words.push_back(m.word);
    g.tokens.insert(g.tokens.end(), m.tokens.begin(), m.tokens.end());
  }
  g.score = sum / static_cast<double>(members.size());
  g.word = tokenizer.tokens_to_string(words);
  g.start = members.front().start;
  g.end = members.back().end;
  return g;
}

}  // namespace

std::vector<Entity> aggregate_entities(const std::vector<PreEntity>& pre, Aggregation how,
                                       const std::map<int, std::string>& id2label, const Tokenizer& tokenizer) {
  std::vector<Entity> entities;
  if (how == Aggregation::None || how == Aggregation::Simple) {
    for (const PreEntity& p : pre) {
      const size_t best = argmax(p.scores);
      Entity e;
      e.label = id2label.at(static_cast<int>(best));
      e.score = p.scores[best];
      e.index = p.index;
      e.word = p.word;
      e.start = p.start;
      e.end = p.end;
      e.tokens = {p.token};
      entities.push_back(std::move(e));
    }
  } else {  // words first: a subword piece joins the word before it
    std::vector<const PreEntity*> word;
    for (const PreEntity& p : pre) {
      if (!word.empty() && !p.is_subword) {
        entities.push_back(aggregate_word(word, how, id2label, tokenizer));
        word.clear();
      }
      word.push_back(&p);
    }
    if (!word.empty()) entities.push_back(aggregate_word(word, how, id2label, tokenizer));
  }
  if (how == Aggregation::None) return entities;

  std::vector<Entity> groups, members;
  for (Entity& e : entities) {
    if (!members.empty()) {
      const auto [bi, tag] = bio_tag(e.label);
      const auto [last_bi, last_tag] = bio_tag(members.back().label);
      if (!(tag == last_tag && bi != 'B')) {  // a new entity starts: a different tag, or B- even of the same tag
        groups.push_back(group(members, tokenizer));
        members.clear();
      }
    }
    members.push_back(std::move(e));
  }
  if (!members.empty()) groups.push_back(group(members, tokenizer));
  return groups;
}

std::vector<Entity> merge_overlapping_entities(std::vector<Entity> entities) {
  if (entities.empty()) return entities;
  std::stable_sort(entities.begin(), entities.end(), [](const Entity& a, const Entity& b) { return a.start < b.start; });
  std::vector<Entity> merged;
  Entity previous = entities.front();
  for (Entity& e : entities) {
    if (previous.start <= e.start && e.start < previous.end) {
      const int length = e.end - e.start, previous_length = previous.end - previous.start;
      if (length > previous_length || (length == previous_length && e.score > previous.score)) previous = e;
    } else {
      merged.push_back(std::move(previous));
      previous = e;
    }
  }
  merged.push_back(std::move(previous));
  return merged;
}

EntityResult recognize_entities(BertModel& model, const Tokenizer& tokenizer, std::string_view text,
                                const EntityOptions& options) {
  if (!model.has_token_classifier())
    throw Error("this model has no token-classification head (it is not a *ForTokenClassification model), so it "
                "cannot find entities");
  const std::map<int, std::string>& id2label = model.config().id2label;
  const size_t L = static_cast<size_t>(model.num_token_labels());
  const std::u32string sentence = unicode::decode_utf8(text);  // offsets are code points
  const std::vector<Token> tokens = tokenizer.tokenize(text);
  const int room = tokenizer.model_max_length() - tokenizer.special_tokens_added(false);
  if (room < 1) throw Error("the model takes too few tokens for any text");
  const int stride = std::clamp(options.stride, 0, room / 2);
  const int total = static_cast<int>(tokens.size());

  // Windows of `room` tokens, each starting `room - stride` after the one before (the tokenizer's overflow).
  std::vector<int> starts;
  for (int s = 0;; s += room - stride) {
    starts.push_back(s);
    if (s + room >= total) break;
  }

  EntityResult result;
  result.windows = static_cast<int>(starts.size());
  result.tokens.resize(tokens.size());
  std::vector<int> best_context(tokens.size(), -1);  // each token's probabilities come from its best-centred window
  std::vector<Entity> found;
  constexpr size_t windows_per_batch = 8;  // bounded memory however long the text
  for (size_t first = 0; first < starts.size(); first += windows_per_batch) {
    const size_t last = std::min(starts.size(), first + windows_per_batch);
    std::vector<Encoding> encodings;
    for (size_t w = first; w < last; ++w) {
      const int s = starts[w];
      encodings.push_back(tokenizer.with_special_tokens(
          std::vector<Token>(tokens.begin() + s, tokens.begin() + std::min(total, s + room))));
    }
    std::vector<const Encoding*> group;
    for (const Encoding& e : encodings) group.push_back(&e);
    const TokenBatch batch = tokenizer.pad_batch(group);
    EncoderOutput out = model.encode(batch);
    const std::vector<float> logits = model.token_logits(out.hidden);  // (windows * T, L)
    for (size_t w = first; w < last; ++w) {
      const Encoding& enc = encodings[w - first];
      const int window_tokens = std::min(total, starts[w] + room) - starts[w];
      std::vector<PreEntity> pre;
      int k = 0;  // the window's k-th text token
      for (size_t i = 0; i < enc.size(); ++i) {
        const Token& t = enc.tokens[i];
        if (t.sequence < 0) continue;  // added by the post-processor
        const int g = starts[w] + k++;
        if (t.special) continue;        // typed special tokens are skipped too, as the special_tokens_mask does
        PreEntity p;
        p.scores = softmax(logits.data() + ((w - first) * static_cast<size_t>(batch.seq_len) + i) * L, L);
        p.start = t.start;
        p.end = t.end;
        p.index = static_cast<int>(i);
        p.token = g;
        p.word = tokenizer.token(t.id);
        const std::u32string_view covered = std::u32string_view(sentence).substr(
            static_cast<size_t>(t.start), static_cast<size_t>(t.end - t.start));
        if (tokenizer.marks_continuations()) {  // "##ing" is longer than the "ing" it covers
          p.is_subword = unicode::decode_utf8(p.word).size() != covered.size();
        } else {  // no mark: a piece that follows a non-space character continues a word
          p.is_subword = t.start > 0 && sentence[static_cast<size_t>(t.start) - 1] != U' ' && sentence[static_cast<size_t>(t.start)] != U' ';
        }
        if (t.id == tokenizer.unk_id()) {
          p.word = unicode::encode_utf8(std::u32string(covered));
          p.is_subword = false;
        }
        const int context = std::min(k - 1, window_tokens - k);
        if (context > best_context[static_cast<size_t>(g)]) {
          best_context[static_cast<size_t>(g)] = context;
          TokenLabel& label = result.tokens[static_cast<size_t>(g)];
          label.index = p.index;
          label.word = p.word;
          label.start = p.start;
          label.end = p.end;
          label.probabilities = p.scores;
          const size_t best = argmax(p.scores);
          label.entity = id2label.at(static_cast<int>(best));
          label.score = p.scores[best];
        }
        pre.push_back(std::move(p));
      }
      for (Entity& e : aggregate_entities(pre, options.aggregation, id2label, tokenizer)) {
        if (std::find(options.ignore_labels.begin(), options.ignore_labels.end(), e.label) == options.ignore_labels.end())
          found.push_back(std::move(e));
      }
    }
  }
  // Typed special tokens have no label: drop their empty rows.
  std::vector<int> renumber(tokens.size(), -1);
  std::vector<TokenLabel> kept;
  for (size_t g = 0; g < tokens.size(); ++g) {
    if (best_context[g] < 0) continue;
    renumber[g] = static_cast<int>(kept.size());
    kept.push_back(std::move(result.tokens[g]));
  }
  result.tokens = std::move(kept);
  for (Entity& e : found)
    for (int& t : e.tokens) t = renumber[static_cast<size_t>(t)];
  result.entities = result.windows > 1 ? merge_overlapping_entities(std::move(found)) : std::move(found);
  return result;
}

}  // namespace bertscope
