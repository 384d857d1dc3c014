#include "train/squad_metrics.h"

#include <algorithm>

#include "text/unicode.h"

namespace bertscope {
namespace {

bool is_ascii_punctuation(char32_t c) {  // Python's string.punctuation
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

bool is_python_space(char32_t c) {  // str.split()'s white space
  return unicode::is_whitespace(c) || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

std::vector<std::u32string> answer_tokens(std::string_view text) {
  const std::u32string normalized = unicode::decode_utf8(normalize_squad_answer(text));
  std::vector<std::u32string> tokens;
  std::u32string current;
  for (char32_t c : normalized) {
    if (c == U' ') {
      if (!current.empty()) tokens.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

}  // namespace

std::string normalize_squad_answer(std::string_view text) {
  std::u32string s;
  for (char32_t c : unicode::decode_utf8(text)) {  // lower case, then punctuation removed
    c = unicode::to_lower(c);
    if (!is_ascii_punctuation(c)) s.push_back(c);
  }
  // Articles: a whole word (\b(a|an|the)\b) becomes a space.
  std::u32string without_articles;
  for (size_t i = 0; i < s.size();) {
    if (!unicode::is_word_char(s[i])) {
      without_articles.push_back(s[i++]);
      continue;
    }
    size_t end = i;
    while (end < s.size() && unicode::is_word_char(s[end])) ++end;
    const std::u32string word = s.substr(i, end - i);
    if (word == U"a" || word == U"an" || word == U"the") {
      without_articles.push_back(U' ');
    } else {
      without_articles += word;
    }
    i = end;
  }
  // White space runs become one space, none at the ends.
  std::u32string out;
  for (char32_t c : without_articles) {
    if (is_python_space(c)) {
      if (!out.empty() && out.back() != U' ') out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && out.back() == U' ') out.pop_back();
  return unicode::encode_utf8(out);
}

double squad_exact(std::string_view gold, std::string_view prediction) {
  return normalize_squad_answer(gold) == normalize_squad_answer(prediction) ? 1.0 : 0.0;
}

double squad_f1(std::string_view gold, std::string_view prediction, bool v2) {
  const auto gold_tokens = answer_tokens(gold);
  const auto pred_tokens = answer_tokens(prediction);
  if (v2 && (gold_tokens.empty() || pred_tokens.empty())) return gold_tokens == pred_tokens ? 1.0 : 0.0;
  // Tokens in common, counted with multiplicity (Counter & Counter).
  std::map<std::u32string, int> gold_counts;
  for (const auto& t : gold_tokens) ++gold_counts[t];
  int same = 0;
  for (const auto& t : pred_tokens) {
    auto it = gold_counts.find(t);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / pred_tokens.size();
  const double recall = static_cast<double>(same) / gold_tokens.size();
  return 2 * precision * recall / (precision + recall);
}

SquadScores score_squad(const std::vector<QaExample>& examples, const std::map<std::string, QaPrediction>& predictions,
                        bool v2) {
  SquadScores s;
  s.v2 = v2;
  struct Row {
    double exact, f1, na_prob;
    bool has_answer, predicted_answer;
  };
  std::vector<Row> rows;
  for (const QaExample& e : examples) {
    const auto it = predictions.find(e.id);
    if (it == predictions.end()) ++s.missing;
    const std::string predicted = it == predictions.end() ? std::string() : it->second.text;
    // v2.0: gold answers that normalise to nothing are dropped, and a question left with none has the gold "".
    std::vector<std::string> golds;
    for (const QaAnswerSpan& a : e.answers)
      if (!v2 || !normalize_squad_answer(a.text).empty()) golds.push_back(a.text);
    if (golds.empty()) golds.push_back("");
    Row r{0, 0, it == predictions.end() ? 1.0 : it->second.no_answer_probability, !e.answers.empty(), !predicted.empty()};
    if (it != predictions.end())
      for (const std::string& g : golds) {
        r.exact = std::max(r.exact, squad_exact(g, predicted));
        r.f1 = std::max(r.f1, squad_f1(g, predicted, v2));
      }
    rows.push_back(r);
  }
  s.total = static_cast<int>(rows.size());
  for (const Row& r : rows) {
    s.exact += r.exact;
    s.f1 += r.f1;
    (r.has_answer ? s.has_ans_exact : s.no_ans_exact) += r.exact;
    (r.has_answer ? s.has_ans_f1 : s.no_ans_f1) += r.f1;
    ++(r.has_answer ? s.has_ans_total : s.no_ans_total);
  }
  auto percent = [](double sum, int n) { return n == 0 ? 0.0 : 100.0 * sum / n; };
  s.exact = percent(s.exact, s.total);
  s.f1 = percent(s.f1, s.total);
  s.has_ans_exact = percent(s.has_ans_exact, s.has_ans_total);
  s.has_ans_f1 = percent(s.has_ans_f1, s.has_ans_total);
  s.no_ans_exact = percent(s.no_ans_exact, s.no_ans_total);
  s.no_ans_f1 = percent(s.no_ans_f1, s.no_ans_total);

  // The v2.0 script's find_best_thresh: answer "no answer" for every question whose na_prob is above a threshold;
  // start from all "no answer" and lower the threshold question by question, in order of na_prob.
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rows[a].na_prob < rows[b].na_prob; });
  auto best = [&](double Row::*score, double& best_percent, double& best_thresh) {
    double current = s.no_ans_total, best_score = current;
    best_thresh = 0.0;
    for (size_t i : order) {
      const Row& r = rows[i];
      current += r.has_answer ? r.*score : (r.predicted_answer ? -1.0 : 0.0);
      if (current > best_score) {
        best_score = current;
        best_thresh = r.na_prob;
      }
    }
    best_percent = percent(best_score, s.total);
  };
  best(&Row::exact, s.best_exact, s.best_exact_thresh);
  best(&Row::f1, s.best_f1, s.best_f1_thresh);
  return s;
}

nlohmann::json squad_scores_json(const SquadScores& s) {
  if (!s.v2) return {{"exact_match", s.exact}, {"f1", s.f1}};
  nlohmann::json j = {{"exact", s.exact}, {"f1", s.f1}, {"total", s.total}};
  if (s.has_ans_total > 0) {
    j["HasAns_exact"] = s.has_ans_exact;
    j["HasAns_f1"] = s.has_ans_f1;
    j["HasAns_total"] = s.has_ans_total;
  }
  if (s.no_ans_total > 0) {
    j["NoAns_exact"] = s.no_ans_exact;
    j["NoAns_f1"] = s.no_ans_f1;
    j["NoAns_total"] = s.no_ans_total;
  }
  j["best_exact"] = s.best_exact;
  j["best_exact_thresh"] = s.best_exact_thresh;
  j["best_f1"] = s.best_f1;
  j["best_f1_thresh"] = s.best_f1_thresh;
  return j;
}

}  // namespace bertscope
