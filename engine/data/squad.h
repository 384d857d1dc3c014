#pragma once
// Extractive question-answering data: SQuAD v1.1 and v2.0 JSON files (data[].paragraphs[].qas[], v2.0 adding
// is_impossible), or JSON lines {"id", "question", "context", "answers": {"text": [...], "answer_start": [...]}} as
// Hugging Face datasets write them (an unanswerable question has empty lists there).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bertscope {

struct QaAnswerSpan {
  std::string text;
  int start = 0;  // code-point offset into the context (Python's str index, as SQuAD's answer_start)
};

struct QaExample {
  std::string id;
  std::string question;
  std::string context;
  std::vector<QaAnswerSpan> answers;  // empty for an unanswerable question; training uses the first
};

struct QaData {
  std::vector<QaExample> examples;
  bool has_unanswerable = false;       // SQuAD v2.0 style: some questions have no answer
  std::vector<std::string> skipped;    // "id: why", for entries left out (an answer not at its answer_start, ...)
};

// Reads a SQuAD JSON file or JSON lines (a JSON object with a "data" array is SQuAD; anything else is read as JSON
// lines). Entries that cannot be used are skipped and listed by id with the reason. Throws Error naming the file for
// invalid UTF-8 or JSON, a structure that is neither format, or no usable entry at all.
QaData read_qa_file(const std::filesystem::path& path);
// The same from text already read; `source` names it in messages.
QaData parse_qa(std::string_view text, const std::string& source);

// Holds out `share` of `data`'s distinct contexts with all their questions (a seeded shuffle of the contexts in
// order of first appearance), so that no paragraph is read in training and validation both. Returns the held-out
// questions (has_unanswerable set for them); `data` keeps the others, which may be none (the caller says so).
QaData hold_out_contexts(QaData& data, double share, std::uint32_t seed);

}  // namespace bertscope
