#pragma once
// CSV/TSV import as people actually have them: RFC 4180 quoting (delimiters, quotes and newlines inside quoted
// fields, "" for a quote), UTF-8 with or without a byte-order mark, LF or CRLF line ends, the delimiter
// (comma, tab, semicolon, bar) and the presence of a header row detected when not given. Rows that cannot be read
// (wrong number of fields, an unterminated quote, invalid UTF-8) are reported with their line number and either
// skipped or stop the import.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bertscope {

enum class BadRows { Skip, Stop };

// Bounds on what a file may make us hold in memory, checked as it is read (before anything is stored). A field or
// a row past its bound is a bad row (its line reported); a file, or a table, past its bound is refused whole.
// Memory grows with the cells as well as the bytes (every cell costs some 32 bytes even when empty), hence both.
struct CsvLimits {
  std::uintmax_t max_file_bytes = 1u << 30;  // 1 GiB
  size_t max_field_bytes = 1u << 20;         // 1 MiB: BERT reads 512 tokens, a few KB, of a sentence
  size_t max_columns = 16384;                // a spreadsheet's limit
  size_t max_rows = 10'000'000;
  size_t max_cells = 50'000'000;             // rows x columns, all rows together
};

struct CsvOptions {
  char delimiter = 0;  // 0: detect
  int header = -1;     // -1: detect, 0: no header row, 1: the first row is a header
  BadRows bad_rows = BadRows::Skip;
  CsvLimits limits;
};

struct CsvProblem {
  int line = 0;  // 1-based line where the row starts
  std::string message;
};

struct CsvTable {
  char delimiter = ',';
  bool has_header = false;
  std::vector<std::string> columns;             // header names, or "column 1", "column 2", ...
  std::vector<std::vector<std::string>> rows;   // every row has columns.size() fields
  std::vector<int> lines;                       // the line each row starts on
  std::vector<CsvProblem> problems;             // rows skipped, and why

  // Index of a column given by name (case-insensitive) or 1-based number; throws Error listing the columns.
  size_t column(const std::string& name_or_number) const;
};

CsvTable parse_csv(std::string_view text, const CsvOptions& options = {}, const std::string& source = "input");
CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options = {});

std::string delimiter_name(char delimiter);  // "comma", "tab", ...

}  // namespace bertscope
