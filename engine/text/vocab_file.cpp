#include "text/vocab_file.h"

#include <algorithm>
#include <string_view>

#include "core/error.h"
#include "core/read_file.h"

namespace bertscope {

void check_vocab_entry(const std::string& entry, const std::string& source, const std::string& where) {
  if (entry.size() > kMaxVocabEntryBytes)
    throw Error(source + ": " + where + ": an entry of " + std::to_string(entry.size()) + " bytes; vocabulary entries " +
                "are word pieces of at most " + describe_bytes(kMaxVocabEntryBytes) + " (is this a vocabulary?)");
}

std::vector<std::string> read_vocab_txt(const std::filesystem::path& path) {
  const std::string text = read_file_bounded(path, kMaxVocabFileBytes, "a vocabulary (vocab.txt)");
  const std::string source = path.string();
  // Counted in the file itself, so the reserve below is what the file really holds.
  const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) +
                       (!text.empty() && text.back() != '\n' ? 1 : 0);
  if (lines == 0) throw Error(source + ": empty vocabulary");
  if (lines > kMaxVocabEntries)
    throw Error(source + ": " + std::to_string(lines) + " entries, more than the " + std::to_string(kMaxVocabEntries) +
                " a vocabulary may have (is this a vocabulary?)");
  std::vector<std::string> vocab;
  vocab.reserve(lines);
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end - start > kMaxVocabEntryBytes)
      throw Error(source + ": line " + std::to_string(vocab.size() + 1) + ": an entry of " + std::to_string(end - start) +
                  " bytes; vocabulary entries are word pieces of at most " + describe_bytes(kMaxVocabEntryBytes) +
                  " (is this a vocabulary?)");
    vocab.emplace_back(text, start, end - start);
    start = end + 1;
  }
  return vocab;
}

}  // namespace bertscope
