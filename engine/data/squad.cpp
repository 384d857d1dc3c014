#include "data/squad.h"

#include <algorithm>
#include <random>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "core/read_file.h"
#include "text/unicode.h"

namespace bertscope {
namespace {

constexpr std::uintmax_t kMaxQaFileBytes = std::uintmax_t(2) << 30;  // 2 GiB: SQuAD v2.0's training file is 40 MB

std::string text_or_empty(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }

std::string shorten(const std::string& s) { return s.size() <= 60 ? s : s.substr(0, 57) + "..."; }

// Adds `qa` to `data` when usable, else lists it in data.skipped with the reason.
void add_example(QaExample qa, bool unanswerable, QaData& data, std::set<std::string>& ids) {
  auto skip = [&](const std::string& why) { data.skipped.push_back(qa.id + ": " + why); };
  if (qa.question.find_first_not_of(" \t\r\n") == std::string::npos) return skip("the question is empty");
  if (qa.context.find_first_not_of(" \t\r\n") == std::string::npos) return skip("the context is empty");
  if (!ids.insert(qa.id).second) return skip("the id is used by an earlier question");
  if (unanswerable) {
    qa.answers.clear();
    data.has_unanswerable = true;
  } else {
    if (qa.answers.empty()) return skip("no answers, and not marked unanswerable (is_impossible)");
    const std::u32string context = unicode::decode_utf8(qa.context);
    for (const QaAnswerSpan& a : qa.answers) {
      const std::u32string answer = unicode::decode_utf8(a.text);
      if (answer.empty()) return skip("an answer is empty");
      if (a.start < 0 || static_cast<size_t>(a.start) + answer.size() > context.size())
        return skip("answer \"" + shorten(a.text) + "\" starts at " + std::to_string(a.start) +
                    ", outside the context (" + std::to_string(context.size()) + " characters)");
      if (context.compare(static_cast<size_t>(a.start), answer.size(), answer) != 0)
        return skip("answer \"" + shorten(a.text) + "\" is not at its answer_start " + std::to_string(a.start) +
                    " (the context there reads \"" +
                    shorten(unicode::encode_utf8(context.substr(static_cast<size_t>(a.start), answer.size()))) + "\")");
    }
  }
  data.examples.push_back(std::move(qa));
}

// One answer object {"text", "answer_start"}; false when malformed.
bool read_answer(const nlohmann::json& a, QaAnswerSpan& out) {
  const auto& text = json_field(a, "text");
  const auto& start = json_field(a, "answer_start");
  if (!text.is_string() || !start.is_number_integer()) return false;
  const long long s = start.get<long long>();
  if (s < -1 || s > (1ll << 30)) return false;
  out = {text.get<std::string>(), static_cast<int>(s)};
  return true;
}

void read_squad(const nlohmann::json& root, const std::string& source, QaData& data) {
  std::set<std::string> ids;
  const auto& articles = json_field(root, "data");
  for (size_t ai = 0; ai < articles.size(); ++ai) {
    const auto& paragraphs = json_field(articles[ai], "paragraphs");
    if (!paragraphs.is_array())
      throw Error(source + ": data[" + std::to_string(ai) + "] has no \"paragraphs\" array (not a SQuAD file?)");
    for (size_t pi = 0; pi < paragraphs.size(); ++pi) {
      const auto& paragraph = paragraphs[pi];
      const auto& qas = json_field(paragraph, "qas");
      const std::string where = "data[" + std::to_string(ai) + "].paragraphs[" + std::to_string(pi) + "]";
      if (!qas.is_array()) {
        data.skipped.push_back(where + ": no \"qas\" array");
        continue;
      }
      const std::string context = text_or_empty(json_field(paragraph, "context"));
      for (size_t qi = 0; qi < qas.size(); ++qi) {
        const auto& q = qas[qi];
        QaExample qa;
        qa.id = text_or_empty(json_field(q, "id"));
        if (qa.id.empty()) qa.id = where + ".qas[" + std::to_string(qi) + "]";
        qa.question = text_or_empty(json_field(q, "question"));
        qa.context = context;
        const auto& answers = json_field(q, "answers");
        bool well_formed = answers.is_array() || answers.is_null();
        for (size_t k = 0; well_formed && k < answers.size(); ++k) {
          QaAnswerSpan a;
          well_formed = read_answer(answers[k], a);
          qa.answers.push_back(a);
        }
        if (!well_formed) {
          data.skipped.push_back(qa.id + ": \"answers\" should be a list of {\"text\", \"answer_start\"}");
          continue;
        }
        const auto& impossible = json_field(q, "is_impossible");
        const bool unanswerable = impossible.is_boolean() && impossible.get<bool>();
        add_example(std::move(qa), unanswerable, data, ids);
      }
    }
  }
}

void read_jsonl(std::string_view text, const std::string& source, QaData& data) {
  std::set<std::string> ids;
  std::istringstream in{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = source + " line " + std::to_string(number);
    const nlohmann::json j = parse_json(line, where);
    if (!j.is_object()) throw Error(where + ": expected a {\"question\", \"context\", \"answers\"} object");
    QaExample qa;
    const auto& id = json_field(j, "id");
    qa.id = id.is_string() ? id.get<std::string>() : id.is_number_integer() ? std::to_string(id.get<long long>())
                                                                            : "line " + std::to_string(number);
    qa.question = text_or_empty(json_field(j, "question"));
    qa.context = text_or_empty(json_field(j, "context"));
    const auto& answers = json_field(j, "answers");
    bool well_formed = true;
    if (answers.is_object()) {  // Hugging Face datasets: {"text": [...], "answer_start": [...]}
      const auto& texts = json_field(answers, "text");
      const auto& starts = json_field(answers, "answer_start");
      well_formed = texts.is_array() && starts.is_array() && texts.size() == starts.size();
      for (size_t k = 0; well_formed && k < texts.size(); ++k) {
        QaAnswerSpan a;
        well_formed = read_answer(nlohmann::json{{"text", texts[k]}, {"answer_start", starts[k]}}, a);
        qa.answers.push_back(a);
      }
    } else if (answers.is_array()) {  // SQuAD's own [{"text", "answer_start"}]
      for (size_t k = 0; well_formed && k < answers.size(); ++k) {
        QaAnswerSpan a;
        well_formed = read_answer(answers[k], a);
        qa.answers.push_back(a);
      }
    } else {
      well_formed = false;
    }
    if (!well_formed) {
      data.skipped.push_back(qa.id + ": \"answers\" should be {\"text\": [...], \"answer_start\": [...]} of equal length");
      continue;
    }
    const bool unanswerable = qa.answers.empty();
    add_example(std::move(qa), unanswerable, data, ids);
  }
}

}  // namespace

QaData read_qa_file(const std::filesystem::path& path) {
  return parse_qa(read_file_bounded(path, kMaxQaFileBytes, "a question-answering file (SQuAD JSON or JSON lines)"),
                  path.string());
}

QaData parse_qa(std::string_view text, const std::string& source) {
  if (!unicode::is_valid_utf8(text)) throw Error(source + ": not UTF-8 text (save it as UTF-8)");
  QaData data;
  // One JSON document with a "data" array is SQuAD; a file of one JSON object per line is JSON lines.
  nlohmann::json whole;
  try {
    whole = parse_json(text, source);  // bounded nesting
  } catch (const Error&) {             // several lines of JSON: JSON lines, each parsed (and bounded) on its own
  }
  if (json_field(whole, "data").is_array()) {
    read_squad(whole, source, data);
  } else {
    read_jsonl(text, source, data);
  }
  if (data.examples.empty())
    throw Error(source + ": no usable questions" +
                (data.skipped.empty() ? std::string() : " (" + std::to_string(data.skipped.size()) +
                                                            " skipped; the first: " + data.skipped.front() + ")"));
  return data;
}

QaData hold_out_contexts(QaData& data, double share, std::uint32_t seed) {
  std::vector<std::string> contexts;  // in order of first appearance
  std::set<std::string> seen;
  for (const QaExample& e : data.examples)
    if (seen.insert(e.context).second) contexts.push_back(e.context);
  std::shuffle(contexts.begin(), contexts.end(), std::mt19937(seed));
  const size_t held = std::min(contexts.size(), static_cast<size_t>(share * static_cast<double>(contexts.size())));
  const std::set<std::string> held_out(contexts.begin(), contexts.begin() + static_cast<std::ptrdiff_t>(held));
  QaData validation;
  std::vector<QaExample> kept;
  for (QaExample& e : data.examples) (held_out.count(e.context) ? validation.examples : kept).push_back(std::move(e));
  data.examples = std::move(kept);
  const auto unanswerable = [](const std::vector<QaExample>& examples) {
    return std::any_of(examples.begin(), examples.end(), [](const QaExample& e) { return e.answers.empty(); });
  };
  validation.has_unanswerable = unanswerable(validation.examples);
  data.has_unanswerable = unanswerable(data.examples);
  return validation;
}

}  // namespace bertscope
