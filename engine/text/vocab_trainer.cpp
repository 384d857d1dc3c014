#include "text/vocab_trainer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <queue>
#include <set>
#include <unordered_set>

#include "core/error.h"
#include "core/safe_files.h"
#include "text/unicode.h"

namespace bertscope {

namespace {
const std::vector<std::string> kSpecial = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

std::uint64_t pair_key(int a, int b) { return (static_cast<std::uint64_t>(a) << 32) | static_cast<std::uint32_t>(b); }
}  // namespace

WordPieceTrainer::WordPieceTrainer(const VocabTrainerOptions& options) : options_(options) {
  if (options_.vocab_size < static_cast<int>(kSpecial.size()) + 2) throw Error("the vocabulary size is too small");
  TokenizerOptions t;
  t.lowercase = options.lowercase;
  t.strip_accents = options.lowercase;
  basic_ = std::make_unique<WordPieceTokenizer>(kSpecial, t);
}

void WordPieceTrainer::add_text(std::string_view text) {
  for (std::string& w : basic_->basic_words(text)) {
    ++counts_[std::move(w)];
    ++total_words_;
  }
}

std::vector<std::string> WordPieceTrainer::train(const std::function<void(int, int)>& progress) const {
  // Alphabet: the most frequent characters.
  std::unordered_map<char32_t, std::int64_t> char_counts;
  std::vector<std::pair<std::u32string, std::int64_t>> words;
  for (const auto& [w, n] : counts_) {
    words.emplace_back(unicode::decode_utf8(w), n);
    for (char32_t c : words.back().first) char_counts[c] += n;
  }
  std::vector<std::pair<char32_t, std::int64_t>> chars(char_counts.begin(), char_counts.end());
  std::sort(chars.begin(), chars.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  if (static_cast<int>(chars.size()) > options_.limit_alphabet) chars.resize(static_cast<size_t>(options_.limit_alphabet));
  std::unordered_set<char32_t> alphabet;
  for (const auto& [c, n] : chars) alphabet.insert(c);

  // Symbols: every piece so far, with its id; words as symbol sequences.
  std::vector<std::string> vocab = kSpecial;
  std::unordered_map<std::string, int> ids;
  for (size_t i = 0; i < vocab.size(); ++i) ids[vocab[i]] = static_cast<int>(i);
  auto symbol = [&](const std::string& s) {
    auto it = ids.find(s);
    if (it != ids.end()) return it->second;
    ids[s] = static_cast<int>(vocab.size());
    vocab.push_back(s);
    return static_cast<int>(vocab.size()) - 1;
  };
  // The alphabet enters the vocabulary in a fixed order: characters by frequency, word-initial forms first.
  for (const auto& [c, n] : chars) symbol(unicode::encode_utf8(std::u32string(1, c)));
  std::vector<std::vector<int>> seqs;
  std::vector<std::int64_t> freq;
  std::sort(words.begin(), words.end());  // deterministic order, whatever the hash map did
  for (const auto& [w, n] : words) {
    if (!std::all_of(w.begin(), w.end(), [&](char32_t c) { return alphabet.count(c) > 0; })) continue;
    std::vector<int> s;
    for (size_t i = 0; i < w.size(); ++i) s.push_back(symbol((i ? "##" : "") + unicode::encode_utf8(std::u32string(1, w[i]))));
    seqs.push_back(std::move(s));
    freq.push_back(n);
  }

  // Pair statistics, and which words hold each pair.
  std::unordered_map<std::uint64_t, std::int64_t> pair_counts;
  std::unordered_map<std::uint64_t, std::unordered_set<int>> where;
  for (size_t w = 0; w < seqs.size(); ++w)
    for (size_t i = 0; i + 1 < seqs[w].size(); ++i) {
      const auto k = pair_key(seqs[w][i], seqs[w][i + 1]);
      pair_counts[k] += freq[w];
      where[k].insert(static_cast<int>(w));
    }
  // Max-heap of (count, pair); entries go stale as counts change and are checked when popped. Ties break on the
  // merged piece's text, so the result does not depend on hashing.
  struct Entry { std::int64_t count; std::string merged; std::uint64_t key; };
  auto less = [](const Entry& a, const Entry& b) { return a.count != b.count ? a.count < b.count : a.merged > b.merged; };
  std::priority_queue<Entry, std::vector<Entry>, decltype(less)> heap(less);
  auto merged_text = [&](std::uint64_t k) {
    const std::string& a = vocab[static_cast<size_t>(k >> 32)];
    const std::string& b = vocab[static_cast<size_t>(k & 0xffffffffU)];
    return a + b.substr(2);  // b is always a "##" continuation
  };
  for (const auto& [k, n] : pair_counts) heap.push({n, merged_text(k), k});

  int last_report = 0;
  while (static_cast<int>(vocab.size()) < options_.vocab_size && !heap.empty()) {
    const Entry top = heap.top();
    heap.pop();
    auto it = pair_counts.find(top.key);
    if (it == pair_counts.end() || it->second != top.count) continue;  // stale
    if (top.count < options_.min_frequency) break;
    const int a = static_cast<int>(top.key >> 32), b = static_cast<int>(top.key & 0xffffffffU);
    const int merged = symbol(top.merged);
    const std::vector<int> affected(where[top.key].begin(), where[top.key].end());
    std::map<std::uint64_t, std::int64_t> changed;  // pair -> count delta
    for (int w : affected) {
      std::vector<int>& s = seqs[static_cast<size_t>(w)];
      const std::int64_t n = freq[static_cast<size_t>(w)];
      for (size_t i = 0; i + 1 < s.size(); ++i) changed[pair_key(s[i], s[i + 1])] -= n;  // remove old pairs
      std::vector<int> out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          out.push_back(merged);
          ++i;
        } else {
          out.push_back(s[i]);
        }
      }
      s = std::move(out);
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        const auto k = pair_key(s[i], s[i + 1]);
        changed[k] += n;
        where[k].insert(w);
      }
    }
    for (const auto& [k, delta] : changed) {
      if (delta == 0) continue;
      auto& count = pair_counts[k];
      count += delta;
      if (count <= 0) {
        pair_counts.erase(k);
        where.erase(k);
      } else if (delta > 0 || k != top.key) {
        heap.push({count, merged_text(k), k});
      }
    }
    pair_counts.erase(top.key);
    where.erase(top.key);
    if (progress && static_cast<int>(vocab.size()) - last_report >= 500) {
      last_report = static_cast<int>(vocab.size());
      progress(last_report, options_.vocab_size);
    }
  }
  if (progress) progress(static_cast<int>(vocab.size()), options_.vocab_size);
  return vocab;
}

void write_vocab(const std::filesystem::path& path, const std::vector<std::string>& vocab) {
  std::string text;
  for (const auto& t : vocab) text += t + "\n";
  write_file_atomically(path, text);
}

}  // namespace bertscope
