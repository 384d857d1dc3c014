#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <random>

#include "core/error.h"

namespace bertscope {

namespace {
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}
bool is_integer(const std::string& s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  return i < s.size() && std::all_of(s.begin() + static_cast<long>(i), s.end(), ::isdigit) && s.size() - i < 10;
}
// "01", "1.0" and "1e0" are the label 1: the canonical integer text of a whole number, else nullopt.
std::optional<std::string> whole_number(const std::string& s) {
  if (s.empty() || s.size() > 32) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 1e15) return std::nullopt;
  return std::to_string(static_cast<long long>(v));
}
}  // namespace

LabelledData labelled_examples(const CsvTable& table, const std::string& text_column, const std::string& label_column,
                               BadRows bad_rows, const std::vector<std::string>& known_labels) {
  const size_t tc = table.column(text_column), lc = table.column(label_column);
  if (tc == lc) throw Error("the text and the label must be different columns");
  LabelledData data;
  std::vector<std::pair<std::string, int>> raw;  // (label text, row)
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const std::string text = trim(table.rows[r][tc]), label = trim(table.rows[r][lc]);
    const char* problem = text.empty() ? "the text is empty" : label.empty() ? "the label is empty" : nullptr;
    if (problem) {
      if (bad_rows == BadRows::Stop) throw Error("line " + std::to_string(table.lines[r]) + ": " + problem);
      data.problems.push_back({table.lines[r], problem});
      continue;
    }
    raw.emplace_back(label, static_cast<int>(r));
  }
  if (!known_labels.empty()) {
    data.labels = known_labels;  // e.g. the model's own labels, when evaluating
  } else {
    // Numeric labels written differently ("1", "01", "1.0") are one class, as pandas would read them.
    const bool all_whole = std::all_of(raw.begin(), raw.end(), [](const auto& l) { return whole_number(l.first).has_value(); });
    if (all_whole)
      for (auto& entry : raw) entry.first = *whole_number(entry.first);
    const std::set<std::string> seen = [&] {
      std::set<std::string> s;
      for (const auto& entry : raw) s.insert(entry.first);
      return s;
    }();
    std::vector<std::string> distinct(seen.begin(), seen.end());
    const bool numeric = std::all_of(distinct.begin(), distinct.end(), is_integer);
    std::sort(distinct.begin(), distinct.end(), [&](const std::string& a, const std::string& b) {
      return numeric ? std::stol(a) < std::stol(b) : a < b;
    });
    data.labels = distinct;
  }
  std::map<std::string, int> ids;
  for (size_t i = 0; i < data.labels.size(); ++i) ids[data.labels[i]] = static_cast<int>(i);
  for (const auto& [label, r] : raw) {
    auto it = ids.find(label);
    if (it == ids.end() && !known_labels.empty() && is_integer(label) && std::stol(label) >= 0 &&
        std::stol(label) < static_cast<long>(known_labels.size()))
      it = ids.find(known_labels[static_cast<size_t>(std::stol(label))]);  // a label given by its id
    if (it == ids.end()) {
      const std::string problem = "label \"" + label + "\" is not one of the model's labels";
      if (bad_rows == BadRows::Stop) throw Error("line " + std::to_string(table.lines[static_cast<size_t>(r)]) + ": " + problem);
      data.problems.push_back({table.lines[static_cast<size_t>(r)], problem});
      continue;
    }
    data.examples.push_back({trim(table.rows[static_cast<size_t>(r)][tc]), it->second, table.lines[static_cast<size_t>(r)]});
  }
  if (data.labels.size() < 2) throw Error("the label column has fewer than two different labels");
  if (data.examples.empty()) throw Error("no usable rows");
  return data;
}

Split stratified_split(const std::vector<Example>& examples, int label_count, double validation_fraction, std::uint32_t seed) {
  if (validation_fraction < 0 || validation_fraction >= 1) throw Error("the validation fraction must be in [0, 1)");
  std::vector<std::vector<size_t>> by_label(static_cast<size_t>(label_count));
  for (size_t i = 0; i < examples.size(); ++i) by_label.at(static_cast<size_t>(examples[i].label)).push_back(i);
  std::mt19937 rng(seed);
  Split split;
  for (auto& indices : by_label) {
    std::shuffle(indices.begin(), indices.end(), rng);
    const auto n_val = static_cast<size_t>(std::lround(validation_fraction * static_cast<double>(indices.size())));
    for (size_t k = 0; k < indices.size(); ++k) (k < n_val ? split.validation : split.train).push_back(examples[indices[k]]);
  }
  std::shuffle(split.train.begin(), split.train.end(), rng);
  return split;
}

}  // namespace bertscope
