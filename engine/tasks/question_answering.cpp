// Extractive question answering, scored as Hugging Face's question-answering pipeline does: the context is split
// into overlapping windows; in each window, start and end logits outside the context get probability 0, both are
// softmaxed, and a span (s, e) with s <= e < s + max_answer_len scores p_start(s) * p_end(e).
#include <algorithm>
#include <set>
#include <cmath>

#include "core/error.h"
#include "tasks/tasks.h"
#include "text/unicode.h"

namespace bertscope {

namespace {

// p over the window's context tokens (others 0), with [CLS] kept in the softmax and then zeroed, as HF does.
std::vector<double> context_softmax(const std::vector<float>& logits, const std::vector<bool>& in_context) {
  std::vector<float> masked(logits.size(), -INFINITY);
  for (size_t i = 0; i < logits.size(); ++i)
    if (in_context[i] || i == 0) masked[i] = logits[i];
  std::vector<double> p = softmax(masked.data(), masked.size());
  p[0] = 0.0;
  return p;
}

}  // namespace

QaWindows qa_windows(const Tokenizer& tokenizer, std::string_view question, std::string_view context,
                     int max_seq_len, int doc_stride) {
  if (question.find_first_not_of(" \t\r\n") == std::string_view::npos) throw Error("the question is empty");
  std::vector<Token> context_tokens = tokenizer.tokenize(context, 1);
  if (context_tokens.empty()) throw Error("the context is empty");
  std::vector<Token> question_tokens = tokenizer.tokenize(question, 0);

  QaWindows result;
  const int max_len = std::min(max_seq_len, tokenizer.model_max_length());
  // The question keeps at most half the window (Hugging Face truncates "only_second", and fails on a question
  // that leaves no room; we truncate the question instead, and say so).
  const int max_question = std::max(1, max_len / 2 - 2);
  if (static_cast<int>(question_tokens.size()) > max_question) {
    result.question_truncated_tokens = static_cast<int>(question_tokens.size()) - max_question;
    question_tokens.resize(max_question);
  }
  result.room = max_len - static_cast<int>(question_tokens.size()) - tokenizer.special_tokens_added(true);
  if (result.room < 1)
    throw Error("a window of " + std::to_string(max_len) + " tokens leaves no room for the context");
  result.stride = std::clamp(doc_stride, 0, result.room - 1);  // tokens shared by neighbours
  const int total = static_cast<int>(context_tokens.size());

  // Windows over the context, each starting room - stride tokens after the previous one.
  for (int s = 0;; s += result.room - result.stride) {
    const std::vector<Token> part(context_tokens.begin() + s, context_tokens.begin() + std::min(total, s + result.room));
    result.windows.push_back(tokenizer.with_special_tokens(question_tokens, &part));
    if (s + result.room >= total) break;
  }
  return result;
}

QaResult answer_question(BertModel& model, const Tokenizer& tokenizer, std::string_view question,
                         std::string_view context, const QaOptions& options) {
  if (!model.has_qa_head()) throw Error("this model has no question-answering head (qa_outputs)");
  const QaLogitsFn logits = [&model](const TokenBatch& batch) {
    EncoderOutput out = model.encode(batch);
    return model.qa_logits(out.hidden);
  };
  return answer_question(logits, tokenizer, question, context, options);
}

QaResult answer_question(const QaLogitsFn& logits_of, const Tokenizer& tokenizer, std::string_view question,
                         std::string_view context, const QaOptions& options) {
  QaWindows windows = qa_windows(tokenizer, question, context, options.max_seq_len, options.doc_stride);
  QaResult result;
  result.question_truncated_tokens = windows.question_truncated_tokens;
  for (Encoding& e : windows.windows) {
    QaWindow w;
    w.encoding = std::move(e);
    result.windows.push_back(std::move(w));
  }
  const int room = windows.room, stride = windows.stride;

  // The start/end logits of every window, a few windows at a time so memory stays bounded however long the
  // context is. Each group is padded to its longest window; padding is masked out of attention.
  constexpr size_t windows_per_batch = 8;
  for (size_t first = 0; first < result.windows.size(); first += windows_per_batch) {
    const size_t last = std::min(result.windows.size(), first + windows_per_batch);
    std::vector<const Encoding*> group;
    for (size_t wi = first; wi < last; ++wi) group.push_back(&result.windows[wi].encoding);
    const TokenBatch batch = tokenizer.pad_batch(group);
    const int T = batch.seq_len;
    const std::vector<float> logits = logits_of(batch);  // (windows in group * T, 2)
    for (size_t wi = first; wi < last; ++wi) {
      QaWindow& w = result.windows[wi];
      for (int i = 0; i < static_cast<int>(w.encoding.size()); ++i) {
        w.start_logits.push_back(logits[((wi - first) * T + i) * 2 + 0]);
        w.end_logits.push_back(logits[((wi - first) * T + i) * 2 + 1]);
      }
    }
  }

  // Candidates, pruned as they come: a span appears in at most `overlap` windows, so the best top_k * overlap
  // candidates always hold the top_k distinct spans.
  const size_t overlap = static_cast<size_t>((room + (room - stride) - 1) / (room - stride));
  const size_t keep = static_cast<size_t>(std::max(1, options.top_k)) * overlap;
  auto better = [](const QaAnswer& a, const QaAnswer& b) { return a.score > b.score; };
  std::vector<QaAnswer> candidates;
  const std::u32string context32 = unicode::decode_utf8(context);
  for (size_t wi = 0; wi < result.windows.size(); ++wi) {
    QaWindow& w = result.windows[wi];
    const int n = static_cast<int>(w.encoding.size());
    std::vector<bool> in_context(n);
    for (int i = 0; i < n; ++i) {
      const Token& t = w.encoding.tokens[i];
      in_context[i] = t.sequence == 1 && !t.special;
    }
    const std::vector<double> ps = context_softmax(w.start_logits, in_context);
    const std::vector<double> pe = context_softmax(w.end_logits, in_context);
    for (int s = 0; s < n; ++s) {
      if (!in_context[s]) continue;
      for (int e = s; e < n && e < s + options.max_answer_len; ++e) {
        if (!in_context[e]) continue;
        QaAnswer a;
        a.score = ps[s] * pe[e];
        a.window = static_cast<int>(wi);
        a.start_token = s;
        a.end_token = e;
        a.start = w.encoding.tokens[s].start;
        a.end = w.encoding.tokens[e].end;
        candidates.push_back(a);
      }
    }
    if (candidates.size() > 4 * keep + 4096) {  // stable: equal scores keep their (window, position) order
      std::stable_sort(candidates.begin(), candidates.end(), better);
      candidates.resize(keep);
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(), better);
  std::set<std::pair<int, int>> seen_spans;
  for (const QaAnswer& c : candidates) {  // best first; the same character span from two windows counts once
    if (static_cast<int>(result.answers.size()) >= std::max(1, options.top_k)) break;
    if (!seen_spans.insert({c.start, c.end}).second) continue;
    QaAnswer a = c;
    a.answer = unicode::encode_utf8(std::u32string_view(context32).substr(a.start, a.end - a.start));
    result.answers.push_back(std::move(a));
  }
  return result;
}

}  // namespace bertscope
