#include "data/csv.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <utf8proc.h>

#include "core/error.h"

namespace bertscope {

namespace {

struct Record {
  std::vector<std::string> fields;
  int line = 0;
  std::string problem;  // non-empty: this record cannot be used
};

// The offset of the first byte that is not valid UTF-8, or npos.
size_t utf8_error_at(std::string_view s) {
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  for (utf8proc_ssize_t i = 0, n = static_cast<utf8proc_ssize_t>(s.size()); i < n;) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t len = utf8proc_iterate(p + i, n - i, &cp);
    if (len <= 0 || cp < 0) return static_cast<size_t>(i);
    i += len;
  }
  return std::string_view::npos;
}


// Splits text into records (RFC 4180). Empty lines are not records. Stops after `limit` records (0: all).
std::vector<Record> split_records(std::string_view text, char delimiter, size_t limit = 0) {
  std::vector<Record> records;
  size_t i = 0;
  int line = 1;
  while (i < text.size() && (limit == 0 || records.size() < limit)) {
    Record r;
    r.line = line;
    std::string field;
    bool record_done = false, empty_line = true;
    while (!record_done) {
      if (i < text.size() && text[i] == '"' && field.empty()) {  // a quoted field
        empty_line = false;
        const size_t quote_at = i;
        const int quote_line = line;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') { field += '"'; i += 2; continue; }
            ++i;
            closed = true;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        if (!closed) {  // skip this line only; the rows after it are read as usual
          r.problem = "a quoted field is never closed (a missing \")";
          const size_t eol = text.find('\n', quote_at);
          i = eol == std::string_view::npos ? text.size() : eol;
          line = quote_line;
          field.clear();
        } else if (i < text.size() && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') {
          r.problem = "text after a closing quote; quotes inside a quoted field must be doubled (\"\")";
          while (i < text.size() && text[i] != '\n') ++i;  // skip the rest of the line
        }
      }
      // Unquoted text up to the delimiter or the end of the line (a quote in the middle is just a character).
      while (i < text.size() && text[i] != delimiter && text[i] != '\n') {
        if (text[i] != '\r' || (i + 1 < text.size() && text[i + 1] != '\n')) field += text[i];
        empty_line = false;
        ++i;
      }
      r.fields.push_back(std::move(field));
      field.clear();
      if (i < text.size() && text[i] == delimiter) {
        empty_line = false;
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '\n') { ++i; ++line; }
      record_done = true;
    }
    if (empty_line && r.problem.empty() && r.fields.size() == 1 && r.fields[0].empty()) continue;
    records.push_back(std::move(r));
  }
  return records;
}

char detect_delimiter(std::string_view text) {
  char best = ',';
  double best_score = 0;
  for (char d : {',', '\t', ';', '|'}) {
    const auto sample = split_records(text, d, 50);
    std::map<size_t, int> counts;
    for (const auto& r : sample) ++counts[r.fields.size()];
    size_t mode = 1;
    int mode_count = 0;
    for (const auto& [n, c] : counts)
      if (c > mode_count) mode = n, mode_count = c;
    if (mode < 2 || sample.empty()) continue;
    const double score = static_cast<double>(mode_count) / static_cast<double>(sample.size());  // consistency
    if (score > best_score + 1e-9) best = d, best_score = score;
  }
  return best;
}

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  std::istringstream in(s);
  double v;
  in >> v;
  return !in.fail() && in.eof();
}

// Like Python's csv.Sniffer.has_header: votes per column on whether the first row looks different from the rest.
bool detect_header(const std::vector<Record>& records) {
  if (records.size() < 2) return false;
  const auto& first = records[0].fields;
  int votes = 0;
  for (size_t c = 0; c < first.size(); ++c) {
    std::vector<std::string> values;
    for (size_t r = 1; r < records.size() && r < 200; ++r)
      if (records[r].problem.empty() && c < records[r].fields.size()) values.push_back(records[r].fields[c]);
    if (values.empty()) continue;
    const bool numeric = std::all_of(values.begin(), values.end(), is_number);
    std::set<std::string> distinct(values.begin(), values.end());
    if (numeric) votes += is_number(first[c]) ? -1 : 1;
    else if (distinct.size() <= 20 && values.size() >= 2 * distinct.size()) votes += distinct.count(first[c]) ? -1 : 1;  // categorical
    else {  // free text: a header name is much shorter than the typical value
      std::vector<size_t> lengths;
      for (const auto& v : values) lengths.push_back(v.size());
      std::nth_element(lengths.begin(), lengths.begin() + static_cast<long>(lengths.size() / 2), lengths.end());
      votes += first[c].size() * 3 < lengths[lengths.size() / 2] ? 1 : -1;
    }
  }
  return votes > 0;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

std::string delimiter_name(char d) {
  switch (d) {
    case ',': return "comma";
    case '\t': return "tab";
    case ';': return "semicolon";
    case '|': return "bar";
  }
  return std::string("'") + d + "'";
}

size_t CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (lower(columns[i]) == lower(name)) return i;
  if (!name.empty() && std::all_of(name.begin(), name.end(), ::isdigit)) {
    const size_t n = std::stoul(name);
    if (n >= 1 && n <= columns.size()) return n - 1;
  }
  std::string list;
  for (const auto& c : columns) list += (list.empty() ? "" : ", ") + ("\"" + c + "\"");
  throw Error("no column \"" + name + "\"; the columns are " + list + " (or give a column number)");
}

CsvTable parse_csv(std::string_view text, const CsvOptions& options, const std::string& source) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark
  if (text.substr(0, 2) == "\xFF\xFE" || text.substr(0, 2) == "\xFE\xFF")
    throw Error(source + ": the file is UTF-16; save it as UTF-8 (CSV UTF-8 in spreadsheet programs)");
  if (text.find('\0') != std::string_view::npos)
    throw Error(source + ": the file holds NUL bytes: it is binary or UTF-16, not a UTF-8 CSV/TSV file");
  if (const size_t bad = utf8_error_at(text); bad != std::string_view::npos) {
    const long line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(bad), '\n');
    throw Error(source + ":" + std::to_string(line) + ": the file is not valid UTF-8; save it as UTF-8");
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) throw Error(source + ": the file is empty");
  CsvTable table;
  table.delimiter = options.delimiter ? options.delimiter : detect_delimiter(text);
  std::vector<Record> records = split_records(text, table.delimiter);
  table.has_header = options.header < 0 ? detect_header(records) : options.header == 1;
  // The expected number of fields: the header's, or the most common.
  std::map<size_t, int> counts;
  for (const auto& r : records)
    if (r.problem.empty()) ++counts[r.fields.size()];
  size_t width = records.empty() ? 0 : records[0].fields.size();
  if (!table.has_header) {
    int best = 0;
    for (const auto& [n, c] : counts)
      if (c > best) width = n, best = c;
  }
  size_t start = 0;
  if (table.has_header) {
    table.columns = records[0].fields;
    start = 1;
  } else {
    for (size_t c = 0; c < width; ++c) table.columns.push_back("column " + std::to_string(c + 1));
  }
  if (records.size() == start + 0 || (records.size() == 1 && options.header < 0))
    throw Error(source + ": no data rows (the file has only " + (records.size() == 1 ? "one row" : "a header") + ")");
  for (size_t r = start; r < records.size(); ++r) {
    Record& rec = records[r];
    if (rec.problem.empty() && rec.fields.size() != width)
      rec.problem = std::to_string(rec.fields.size()) + " fields where " + std::to_string(width) + " were expected";
    if (!rec.problem.empty()) {
      if (options.bad_rows == BadRows::Stop)
        throw Error(source + ":" + std::to_string(rec.line) + ": " + rec.problem);
      table.problems.push_back({rec.line, rec.problem});
      continue;
    }
    table.rows.push_back(std::move(rec.fields));
    table.lines.push_back(rec.line);
  }
  return table;
}

CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_csv(text.str(), options, path.string());
}

}  // namespace bertscope
