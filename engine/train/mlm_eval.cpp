#include "train/mlm_eval.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "core/error.h"

namespace bertscope {

std::vector<std::vector<std::int32_t>> pack_sequences(const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                                                      int seq_len) {
  if (seq_len < 8) throw Error("sequences must hold at least 8 tokens");
  const size_t body = static_cast<size_t>(seq_len - 2);
  std::vector<std::vector<std::int32_t>> out;
  std::vector<std::int32_t> current;
  auto flush = [&] {
    if (current.empty()) return;
    std::vector<std::int32_t> seq = {tokenizer.cls_id()};
    seq.insert(seq.end(), current.begin(), current.end());
    seq.push_back(tokenizer.sep_id());
    out.push_back(std::move(seq));
    current.clear();
  };
  for (const auto& line : lines) {
    for (const Token& t : tokenizer.tokenize(line)) {
      current.push_back(t.id);
      if (current.size() == body) flush();
    }
  }
  flush();
  return out;
}

MlmEvalResult evaluate_mlm(const MlmLogitsFn& logits_of, const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                           int seq_len, std::uint32_t seed, std::int64_t max_masked) {
  if (tokenizer.mask_id() < 0) throw Error("the vocabulary has no [MASK] token");
  const auto sequences = pack_sequences(tokenizer, lines, seq_len);
  if (sequences.empty()) throw Error("the text has no tokens");
  MlmEvalResult r;
  // The unigram baseline: the text's five most frequent ordinary tokens, most frequent first.
  std::map<std::int32_t, std::int64_t> freq;
  for (const auto& s : sequences)
    for (std::int32_t id : s)
      if (!tokenizer.is_special(id)) ++freq[id], ++r.tokens;
  std::vector<std::pair<std::int64_t, std::int32_t>> ranked;
  for (const auto& [id, n] : freq) ranked.emplace_back(-n, id);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::int32_t> common;
  for (size_t i = 0; i < ranked.size() && i < 5; ++i) common.push_back(ranked[i].second);

  std::mt19937 rng(seed);
  std::bernoulli_distribution pick(0.15);
  std::int64_t hit1 = 0, hit5 = 0, base1 = 0, base5 = 0;
  double loss_sum = 0;
  const size_t batch_size = 16;
  for (size_t start = 0; start < sequences.size(); start += batch_size) {
    const size_t end = std::min(sequences.size(), start + batch_size);
    TokenBatch b;
    b.batch = static_cast<int>(end - start);
    b.seq_len = 0;
    for (size_t s = start; s < end; ++s) b.seq_len = std::max(b.seq_len, static_cast<int>(sequences[s].size()));
    std::vector<std::int32_t> rows, truth;
    for (size_t s = start; s < end; ++s) {
      for (int t = 0; t < b.seq_len; ++t) {
        const bool real = t < static_cast<int>(sequences[s].size());
        std::int32_t id = real ? sequences[s][static_cast<size_t>(t)] : tokenizer.pad_id();
        if (real && !tokenizer.is_special(id) && pick(rng)) {
          rows.push_back(static_cast<std::int32_t>(b.ids.size()));
          truth.push_back(id);
          id = tokenizer.mask_id();
        }
        b.ids.push_back(id);
        b.type_ids.push_back(0);
        b.mask.push_back(real ? 1 : 0);
      }
    }
    if (rows.empty()) continue;
    const std::vector<float> z = logits_of(b, rows);  // (R, V)
    const size_t V = z.size() / rows.size();
    for (size_t i = 0; i < rows.size(); ++i) {
      const float* row = z.data() + i * V;
      std::vector<std::int32_t> top(V);
      for (size_t v = 0; v < V; ++v) top[v] = static_cast<std::int32_t>(v);
      std::partial_sort(top.begin(), top.begin() + 5, top.end(), [&](std::int32_t a, std::int32_t c) { return row[a] > row[c]; });
      // -log softmax(row)[truth], computed stably around the row's maximum.
      const float top_logit = row[top[0]];
      double sum = 0;
      for (size_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v] - top_logit));
      loss_sum += std::log(sum) - static_cast<double>(row[truth[i]] - top_logit);
      hit1 += top[0] == truth[i];
      hit5 += std::find(top.begin(), top.begin() + 5, truth[i]) != top.begin() + 5;
      base1 += !common.empty() && common[0] == truth[i];
      base5 += std::find(common.begin(), common.end(), truth[i]) != common.end();
    }
    r.masked += static_cast<std::int64_t>(rows.size());
    if (max_masked > 0 && r.masked >= max_masked) break;
  }
  if (r.masked == 0) throw Error("no token was masked (the text is too short)");
  const double n = static_cast<double>(r.masked);
  r.top1 = hit1 / n;
  r.loss = loss_sum / n;
  r.top5 = hit5 / n;
  r.baseline_top1 = base1 / n;
  r.baseline_top5 = base5 / n;
  return r;
}

MlmEvalResult evaluate_mlm(BertModel& model, const Tokenizer& tokenizer, const std::vector<std::string>& lines,
                           int seq_len, std::uint32_t seed, std::int64_t max_masked) {
  if (!model.has_mlm_head()) throw Error("this model has no masked-LM head");
  seq_len = std::min(seq_len, model.config().max_tokens());
  return evaluate_mlm([&](const TokenBatch& b, const std::vector<std::int32_t>& rows) {
    EncoderOutput out = model.encode(b);
    return model.mlm_logits(out.hidden, rows);
  }, tokenizer, lines, seq_len, seed, max_masked);
}

}  // namespace bertscope
