#include <algorithm>
#include <cmath>

#include "tasks/tasks.h"

namespace bertscope {

std::vector<double> softmax(const float* logits, size_t n) {
  std::vector<double> p(n);
  double max = -INFINITY;
  for (size_t i = 0; i < n; ++i) max = std::max(max, static_cast<double>(logits[i]));
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += (p[i] = std::exp(logits[i] - max));
  for (auto& v : p) v /= sum;
  return p;
}

TokenBatch single_batch(const Encoding& encoding) {
  TokenBatch b;
  b.batch = 1;
  b.seq_len = static_cast<int>(encoding.size());
  b.ids = encoding.ids();
  b.type_ids = encoding.type_ids();
  b.mask.assign(b.ids.size(), 1);
  return b;
}

}  // namespace bertscope
