#include "data/csv.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <utf8proc.h>

#include "core/error.h"
#include "core/read_file.h"

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
// A field or a record past `limits` is kept short and marked bad; more rows or cells than they allow is an Error.
std::vector<Record> split_records(std::string_view text, char delimiter, const CsvLimits& limits,
                                  const std::string& source, size_t limit = 0) {
  std::vector<Record> records;
  size_t i = 0, cells = 0;
  int line = 1;
  while (i < text.size() && (limit == 0 || records.size() < limit)) {
    Record r;
    r.line = line;
    std::string field;
    bool record_done = false, empty_line = true;
    auto add = [&](char c) {  // to the field, up to its bound (the rest of it is still read, not stored)
      if (field.size() < limits.max_field_bytes) field += c;
      else if (r.problem.empty())
        r.problem = "a field longer than " + describe_bytes(limits.max_field_bytes) + ", more than any sentence";
    };
    while (!record_done) {
      if (i < text.size() && text[i] == '"' && field.empty()) {  // a quoted field
        empty_line = false;
        const size_t quote_at = i;
        const int quote_line = line;
        ++i;
        bool closed = false;
        while (i < text.size()) {
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') { add('"'); i += 2; continue; }
            ++i;
            closed = true;
            break;
          }
          if (text[i] == '\n') ++line;
          add(text[i++]);
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
        if (text[i] != '\r' || (i + 1 < text.size() && text[i + 1] != '\n')) add(text[i]);
        empty_line = false;
        ++i;
      }
      if (r.fields.size() < limits.max_columns) r.fields.push_back(std::move(field));
      else if (r.problem.empty()) r.problem = "more than " + std::to_string(limits.max_columns) + " fields";
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
    cells += r.fields.size();
    if (records.size() == limits.max_rows || cells > limits.max_cells)
      throw Error(source + ":" + std::to_string(r.line) + ": more than " +
                  (records.size() == limits.max_rows ? std::to_string(limits.max_rows) + " rows"
                                                     : std::to_string(limits.max_cells) + " cells (rows x columns)") +
                  "; bertscope reads at most that many. Split the file, or keep only the columns it needs");
    records.push_back(std::move(r));
  }
  return records;
}

char detect_delimiter(std::string_view text, const CsvLimits& limits, const std::string& source) {
  char best = ',';
  double best_score = 0;
  for (char d : {',', '\t', ';', '|'}) {
    const auto sample = split_records(text, d, limits, source, 50);
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

// Whether the first row is a header, from the columns' types rather than the file's size (three rows under
// "text,label" are enough). Decisive when present: a column of numbers below the first row, under a first value
// that is not a number (a name above numbers: header), or that is one (data). Otherwise each column votes: a
// label-like column (at most 20 values, some repeated) whose first value never occurs below says header, one
// where it does says data; a free-text column says header when its first value is much shorter than the typical
// value below, data when it is longer, and nothing in between.
bool detect_header(const std::vector<Record>& records) {
  if (records.size() < 2 || !records[0].problem.empty()) return false;  // an unreadable first row: a bad data row
  const auto& first = records[0].fields;
  int type_votes = 0, votes = 0;
  for (size_t c = 0; c < first.size(); ++c) {
    std::vector<std::string> values;
    for (size_t r = 1; r < records.size() && r < 200; ++r)
      if (records[r].problem.empty() && c < records[r].fields.size()) values.push_back(records[r].fields[c]);
    if (values.empty()) continue;
    if (std::all_of(values.begin(), values.end(), is_number)) {
      type_votes += is_number(first[c]) ? -1 : 1;
      continue;
    }
    const std::set<std::string> distinct(values.begin(), values.end());
    if (distinct.size() <= 20 && distinct.size() < values.size()) {  // categorical: labels
      votes += distinct.count(first[c]) ? -1 : 1;
      continue;
    }
    std::vector<size_t> lengths;
    for (const auto& v : values) lengths.push_back(v.size());
    std::nth_element(lengths.begin(), lengths.begin() + static_cast<long>(lengths.size() / 2), lengths.end());
    const size_t median = lengths[lengths.size() / 2];
    if (first[c].size() * 3 < median) ++votes;
    else if (first[c].size() > median) --votes;
  }
  return type_votes != 0 ? type_votes > 0 : votes > 0;
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
  if (text.size() > options.limits.max_file_bytes)
    throw Error(source + ": " + std::to_string(text.size()) + " bytes, more than the " +
                describe_bytes(options.limits.max_file_bytes) + " a CSV/TSV file may have");
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
  table.delimiter = options.delimiter ? options.delimiter : detect_delimiter(text, options.limits, source);
  std::vector<Record> records = split_records(text, table.delimiter, options.limits, source);
  table.has_header = options.header < 0 ? detect_header(records) : options.header == 1;
  if (table.has_header && !records.empty() && !records[0].problem.empty())  // no column names to go by
    throw Error(source + ":" + std::to_string(records[0].line) + ": the header row cannot be read: " + records[0].problem);
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
  // Sized from the file's real size, refused past the bound before it is read.
  const std::string text = read_file_bounded(path, options.limits.max_file_bytes, "a CSV/TSV file");
  return parse_csv(text, options, path.string());
}

}  // namespace bertscope
