#include "data/tagged.h"

#include <algorithm>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "core/read_file.h"
#include "text/unicode.h"
#include "train/seqeval.h"

namespace bertscope {
namespace {

constexpr std::uintmax_t kMaxTaggedFileBytes = std::uintmax_t(2) << 30;  // 2 GiB: CoNLL-2003 is 3 MB

std::string where(const std::string& source, int line) { return source + " line " + std::to_string(line); }

void read_conll(const std::string& path, std::string_view text, TaggedData& data) {
  std::istringstream in{std::string(text)};
  TaggedSentence current;
  int number = 0;
  auto finish = [&] {
    if (!current.words.empty()) data.sentences.push_back(std::move(current));
    current = TaggedSentence{};
  };
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::vector<std::string> columns;
    for (std::string f; fields >> f;) columns.push_back(f);
    if (columns.empty()) {
      finish();
      continue;
    }
    if (columns[0] == "-DOCSTART-") {
      finish();
      continue;
    }
    if (columns.size() < 2)
      throw Error(where(path, number) + ": \"" + line.substr(0, 80) + "\" has a word but no tag (CoNLL lines are: word ... tag)");
    if (current.words.empty()) current.line = number, current.line_step = 1;
    current.words.push_back(columns.front());
    current.tags.push_back(columns.back());
  }
  finish();
}

void read_jsonl(const std::string& path, std::string_view text, TaggedData& data) {
  std::istringstream in{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const nlohmann::json j = parse_json(line, where(path, number));  // bounded nesting, a clear message
    auto strings = [&](const char* key) {
      const auto it = j.is_object() ? j.find(key) : j.end();
      if (!j.is_object() || it == j.end() || !it->is_array())
        throw Error(where(path, number) + ": expected an object with \"tokens\" and \"ner_tags\" arrays");
      std::vector<std::string> out;
      for (const auto& v : *it) {
        if (!v.is_string())
          throw Error(where(path, number) + ": \"" + key + "\" should hold strings (tags by name, not by id)");
        out.push_back(v.get<std::string>());
      }
      return out;
    };
    TaggedSentence s;
    s.words = strings("tokens");
    s.tags = strings("ner_tags");
    s.line = number;
    if (s.words.size() != s.tags.size())
      throw Error(where(path, number) + ": " + std::to_string(s.words.size()) + " tokens but " +
                  std::to_string(s.tags.size()) + " tags");
    if (!s.words.empty()) data.sentences.push_back(std::move(s));
  }
}

// In a file whose tagged words are mostly entity tags (B-PER, I-LOC, ...), a tag that is neither O nor prefixed is a
// mistake, most often a stray line whose last word was read as its tag. Part-of-speech files (no prefixes, or a few
// tags that happen to look prefixed) are left alone.
void refuse_stray_tags(const TaggedData& data, const std::string& path) {
  long long prefixed = 0, plain = 0;  // words, O not counted
  for (const TaggedSentence& s : data.sentences)
    for (const std::string& t : s.tags)
      if (t != "O") (is_entity_tag(t) ? prefixed : plain) += 1;
  if (plain >= prefixed) return;  // not mostly an entity file
  for (const TaggedSentence& s : data.sentences)
    for (size_t i = 0; i < s.tags.size(); ++i)
      if (s.tags[i] != "O" && !is_entity_tag(s.tags[i]))
        throw Error(path + " line " + std::to_string(s.line_of(i)) + ": tag \"" + s.tags[i].substr(0, 40) +
                    "\" is neither O nor B-/I-/E-/S- with a type, while the file's other tags are entity tags; fix "
                    "or remove that line");
}

}  // namespace

std::string first_unknown_tag(const TaggedData& data, const std::vector<std::string>& labels, const std::string& source) {
  const std::set<std::string> known(labels.begin(), labels.end());
  for (const TaggedSentence& s : data.sentences)
    for (size_t i = 0; i < s.tags.size(); ++i)
      if (!known.count(s.tags[i]))
        return source + " line " + std::to_string(s.line_of(i)) + ": tag \"" + s.tags[i].substr(0, 40) +
               "\" is not one of the model's labels (the training data's tags)";
  return {};
}

int iob1_to_iob2(std::vector<std::string>& tags) {
  int changed = 0;
  for (size_t i = 0; i < tags.size(); ++i) {
    std::string& t = tags[i];
    if (t.size() < 3 || t.compare(0, 2, "I-") != 0) continue;
    const std::string type = t.substr(2);
    const bool continues = i > 0 && tags[i - 1].size() >= 3 && tags[i - 1][1] == '-' && tags[i - 1].substr(2) == type &&
                           (tags[i - 1][0] == 'B' || tags[i - 1][0] == 'I');
    if (!continues) {
      t[0] = 'B';
      ++changed;
    }
  }
  return changed;
}

TaggedData read_tagged_file(const std::filesystem::path& path) {
  return parse_tagged(read_file_bounded(path, kMaxTaggedFileBytes, "a tagged training file (CoNLL or JSON lines)"),
                      path.string());
}

TaggedData parse_tagged(std::string_view text, const std::string& path) {
  if (!unicode::is_valid_utf8(text)) throw Error(path + ": not UTF-8 text (save it as UTF-8)");
  TaggedData data;
  const size_t first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string::npos && text[first] == '{') {
    read_jsonl(path, text, data);
  } else {
    read_conll(path, text, data);
  }
  if (data.sentences.empty()) throw Error(path + ": no tagged sentences");
  refuse_stray_tags(data, path);
  std::set<std::string> labels;
  for (TaggedSentence& s : data.sentences) {
    data.iob1_fixes += iob1_to_iob2(s.tags);
    labels.insert(s.tags.begin(), s.tags.end());
  }
  if (labels.count("O")) data.labels.push_back("O");
  for (const std::string& l : labels)
    if (l != "O") data.labels.push_back(l);
  return data;
}

}  // namespace bertscope
