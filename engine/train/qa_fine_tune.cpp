#include "train/qa_fine_tune.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "text/unicode.h"

namespace bertscope {
namespace {

std::string_view lstrip(std::string_view s) {  // Python's str.lstrip() for the white space questions start with
  const size_t first = s.find_first_not_of(" \t\r\n\v\f");
  return first == std::string_view::npos ? std::string_view() : s.substr(first);
}

int cls_index(const Tokenizer& tokenizer, const Encoding& e) {
  for (size_t i = 0; i < e.tokens.size(); ++i)
    if (e.tokens[i].id == tokenizer.cls_id() && e.tokens[i].sequence < 0) return static_cast<int>(i);
  return 0;
}

}  // namespace

std::vector<QaFeature> qa_train_features(const Tokenizer& tokenizer, const std::vector<QaExample>& examples,
                                         int max_seq_len, int doc_stride) {
  std::vector<QaFeature> features;
  for (size_t ei = 0; ei < examples.size(); ++ei) {
    const QaExample& example = examples[ei];
    QaWindows windows = qa_windows(tokenizer, lstrip(example.question), example.context, max_seq_len, doc_stride);
    const bool answered = !example.answers.empty();
    const int start_char = answered ? example.answers[0].start : 0;
    const int end_char = answered ? start_char + static_cast<int>(unicode::decode_utf8(example.answers[0].text).size()) : 0;
    for (Encoding& e : windows.windows) {
      QaFeature f;
      f.example = ei;
      f.start_position = f.end_position = cls_index(tokenizer, e);
      // The window's context tokens: [first, last].
      int first = -1, last = -1;
      for (int i = 0; i < static_cast<int>(e.tokens.size()); ++i)
        if (e.tokens[i].sequence == 1) {
          if (first < 0) first = i;
          last = i;
        }
      if (answered && first >= 0 && e.tokens[first].start <= start_char && e.tokens[last].end >= end_char) {
        int s = first;
        while (s < last && e.tokens[s + 1].start <= start_char) ++s;  // the token holding the first character
        int t = last;
        while (t > first && e.tokens[t - 1].end >= end_char) --t;    // the token holding the last character
        f.start_position = s;
        f.end_position = t;
      }
      f.encoding = std::move(e);
      features.push_back(std::move(f));
    }
  }
  return features;
}

TokenBatch qa_feature_batch(const Tokenizer& tokenizer, const std::vector<const QaFeature*>& features,
                            std::vector<std::int32_t>& start_positions, std::vector<std::int32_t>& end_positions) {
  std::vector<const Encoding*> encodings;
  start_positions.clear();
  end_positions.clear();
  for (const QaFeature* f : features) {
    encodings.push_back(&f->encoding);
    start_positions.push_back(f->start_position);
    end_positions.push_back(f->end_position);
  }
  return tokenizer.pad_batch(encodings);
}

TrainBatch qa_train_batch(const Tokenizer& tokenizer, const std::vector<const QaFeature*>& features) {
  TrainBatch batch;
  std::vector<std::int32_t> starts, ends;
  batch.tokens = qa_feature_batch(tokenizer, features, starts, ends);
  for (size_t i = 0; i < starts.size(); ++i) {
    batch.labels.push_back(starts[i]);
    batch.labels.push_back(ends[i]);
  }
  return batch;
}

QaPrediction predict_answer(const QaLogitsFn& logits, const Tokenizer& tokenizer, const QaExample& example,
                            const QaOptions& options, bool allow_no_answer) {
  QaOptions one = options;
  one.top_k = 1;
  const QaResult r = answer_question(logits, tokenizer, lstrip(example.question), example.context, one);  // the windows' logits
  double best_score = -INFINITY, null_score = INFINITY;
  int best_start = -1, best_end = -1;  // code points
  for (const QaWindow& w : r.windows) {
    const int cls = cls_index(tokenizer, w.encoding);
    null_score = std::min(null_score, double(w.start_logits[cls]) + w.end_logits[cls]);
    // The n_best highest logits' positions (ties in position order).
    auto top = [&](const std::vector<float>& v) {
      std::vector<int> order(v.size());
      std::iota(order.begin(), order.end(), 0);
      const size_t n = std::min(order.size(), static_cast<size_t>(std::max(1, options.n_best)));
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                        [&](int a, int b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
      order.resize(n);
      return order;
    };
    auto in_context = [&](int i) { return w.encoding.tokens[i].sequence == 1 && !w.encoding.tokens[i].special; };
    for (const int s : top(w.start_logits))
      for (const int e : top(w.end_logits)) {
        if (!in_context(s) || !in_context(e) || e < s || e - s + 1 > options.max_answer_len) continue;
        const double score = double(w.start_logits[s]) + w.end_logits[e];
        if (score > best_score) {
          best_score = score;
          best_start = w.encoding.tokens[s].start;
          best_end = w.encoding.tokens[e].end;
        }
      }
  }
  QaPrediction p;
  if (best_start < 0) {  // no span qualifies (a context of special tokens only): nothing to answer
    p.no_answer_probability = 1.0;
    return p;
  }
  p.text = unicode::encode_utf8(unicode::decode_utf8(example.context).substr(best_start, best_end - best_start));
  p.no_answer_probability = 1.0 / (1.0 + std::exp(best_score - null_score));
  if (allow_no_answer && null_score > best_score) p.text.clear();
  return p;
}

QaEvaluation evaluate_qa(const QaLogitsFn& logits, const Tokenizer& tokenizer, const QaData& data,
                         const QaOptions& options, const std::function<void(size_t, size_t)>& progress,
                         const std::function<bool()>& cancelled) {
  QaEvaluation result;
  for (size_t i = 0; i < data.examples.size(); ++i) {
    if (cancelled && cancelled()) break;
    const QaExample& e = data.examples[i];
    result.predictions[e.id] = predict_answer(logits, tokenizer, e, options, data.has_unanswerable);
    if (progress) progress(i + 1, data.examples.size());
  }
  result.scores = score_squad(data.examples, result.predictions, data.has_unanswerable);
  return result;
}

FineTuneResult fine_tune_qa(BertTrainer& trainer, const Tokenizer& tokenizer, const std::vector<QaFeature>& train,
                            const QaData& validation, const FineTuneOptions& options, const QaOptions& qa,
                            const FineTuneCallbacks& callbacks) {
  if (trainer.options().head != TrainHead::QuestionAnswering) throw Error("internal: the trainer has no question-answering head");
  auto batch_of = [&](const std::vector<size_t>& indices) {
    std::vector<const QaFeature*> chunk;
    for (size_t i : indices) chunk.push_back(&train[i]);
    return qa_train_batch(tokenizer, chunk);
  };
  const QaLogitsFn logits = [&trainer](const TokenBatch& batch) { return trainer.qa_logits(batch); };
  auto validate = [&](EpochResult& r) {
    if (!validation.examples.empty()) r.squad = evaluate_qa(logits, tokenizer, validation, qa, {}, callbacks.cancelled).scores;
  };
  return train_epochs(trainer, train.size(), batch_of, validate, options, callbacks);
}

}  // namespace bertscope
