#pragma once
// WordPieceTrainer: learns a BERT vocabulary (vocab.txt) from text, as Hugging Face's BertWordPieceTokenizer
// trainer does: BERT's basic tokenization into words, an initial alphabet of characters ("c" at the start of a
// word, "##c" inside one), then byte-pair-style merges of the most frequent adjacent pieces ("##" continuations
// stay marked) until the vocabulary is full. Special tokens come first: [PAD] [UNK] [CLS] [SEP] [MASK].
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "text/tokenizer.h"

namespace bertscope {

struct VocabTrainerOptions {
  int vocab_size = 12000;
  int min_frequency = 2;     // a merge must occur at least this often
  int limit_alphabet = 1000; // most frequent characters kept; words with others are left out of the merges
  bool lowercase = true;     // uncased, like bert-base-uncased (also strips accents)
};

class WordPieceTrainer {
 public:
  explicit WordPieceTrainer(const VocabTrainerOptions& options);
  void add_text(std::string_view text);  // counts the words of any amount of text; call repeatedly
  std::int64_t word_count() const { return total_words_; }
  size_t distinct_words() const { return counts_.size(); }
  // Runs the merges; progress(vocabulary size so far, target) now and then.
  std::vector<std::string> train(const std::function<void(int, int)>& progress = {}) const;

 private:
  VocabTrainerOptions options_;
  std::unique_ptr<WordPieceTokenizer> basic_;  // only its basic tokenization is used
  std::unordered_map<std::string, std::int64_t> counts_;
  std::int64_t total_words_ = 0;
};

// Writes one token a line, atomically.
void write_vocab(const std::filesystem::path& path, const std::vector<std::string>& vocab);

}  // namespace bertscope
