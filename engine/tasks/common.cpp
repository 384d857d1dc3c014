#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tasks/tasks.h"

namespace bertscope {

void check_finite(const float* values, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (std::isnan(values[i]) || values[i] == INFINITY)  // -inf is how a caller masks a position out
      throw Error("the model produces NaN or infinite values: a weight in its checkpoint is NaN/Inf, or config.json "
                  "has a bad value (layer_norm_eps); its outputs would be meaningless");
}

std::vector<double> softmax(const float* logits, size_t n) {
  check_finite(logits, n);
  std::vector<double> p(n);
  double max = -INFINITY;
  for (size_t i = 0; i < n; ++i) max = std::max(max, static_cast<double>(logits[i]));
  if (n > 0 && max == -INFINITY)  // every value masked out (or -inf): exp(-inf - -inf) would be NaN probabilities
    throw Error("the model produces only -infinity scores: a weight in its checkpoint is -Inf or overflows; its "
                "outputs would be meaningless");
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
