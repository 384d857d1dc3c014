#pragma once
// Word-tagged sentences for token classification (NER, part of speech): read from CoNLL-style files (a word per
// line, its tag in the last column, blank lines between sentences, -DOCSTART- lines skipped) or from JSON lines
// ({"tokens": [...], "ner_tags": [...]} with string tags, as Hugging Face datasets export them). IOB1 tags (an
// entity may start with I-) are rewritten as IOB2, so every entity starts with B-.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bertscope {

struct TaggedSentence {
  std::vector<std::string> words;
  std::vector<std::string> tags;  // one per word
  int line = 0;                   // where the sentence starts in its file (1-based)
  int line_step = 0;              // CoNLL: 1 (a word a line); JSON lines: 0 (the whole sentence on one line)
  int line_of(size_t word) const { return line + line_step * static_cast<int>(word); }
};

struct TaggedData {
  std::vector<TaggedSentence> sentences;
  std::vector<std::string> labels;  // every tag seen, "O" first, then sorted (stable ids for id2label)
  int iob1_fixes = 0;               // I- tags that started an entity and became B-
};

// Reads a CoNLL file or JSON lines (told apart by the first non-blank character: '{' means JSON lines). Throws
// Error naming the file and line for a line without a tag, a JSON line that is not an object with equally long
// "tokens" and "ner_tags" string arrays, invalid UTF-8, or no sentences at all; and for a stray tag in an entity file:
// where most tagged words carry B-/I-/E-/S- tags, a tag that is neither that nor O (a garbage line's last word
// read as its tag would otherwise turn the whole file into "not entity tags" and change how it is scored).
TaggedData read_tagged_file(const std::filesystem::path& path);
// The same from text already read; `source` names it in messages.
TaggedData parse_tagged(std::string_view text, const std::string& source);

// The first tag of `data` that is not in `labels` (the labels a model was trained with), as a message naming the
// file and line, e.g. "val.conll line 3: tag \"B-MISC\" is not one of ..."; empty when every tag is known.
std::string first_unknown_tag(const TaggedData& data, const std::vector<std::string>& labels, const std::string& source);

// I-X that does not continue an X entity becomes B-X (IOB1 to IOB2; IOB2 tags are left as they are). Returns how
// many tags changed.
int iob1_to_iob2(std::vector<std::string>& tags);

}  // namespace bertscope
