#pragma once
// vocab.txt: one WordPiece vocabulary entry a line, the line number (from 0) being its id. Read with bounds, since
// a model folder may come from anyone: the file's real size, the number of entries and each entry's length are
// checked before anything is stored.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bertscope {

// The largest BERT vocabulary (multilingual) has 119,547 entries; eight times that is still a vocabulary.
constexpr size_t kMaxVocabEntries = 1'000'000;
// WordPiece never matches a word of more than 100 characters (400 bytes of UTF-8), so no real entry is longer.
constexpr size_t kMaxVocabEntryBytes = 1024;
// bert-base-uncased's vocab.txt is 232 KB.
constexpr std::uintmax_t kMaxVocabFileBytes = 64u << 20;

// The entries of vocab.txt, as Hugging Face's load_vocab reads them: split at '\n', which alone is dropped (a '\r'
// stays part of the entry); the last line needs no '\n'. Throws Error naming the file (and the line, for an entry
// too long) when it is too large, has too many or no entries, or an entry longer than kMaxVocabEntryBytes.
std::vector<std::string> read_vocab_txt(const std::filesystem::path& path);

// Throws Error "<source>: <where>: ..." when `entry` is longer than kMaxVocabEntryBytes: for vocabularies in
// other files (tokenizer.json), which read_json_file already bounds in size.
void check_vocab_entry(const std::string& entry, const std::string& source, const std::string& where);

}  // namespace bertscope
