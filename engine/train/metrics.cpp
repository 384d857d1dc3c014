#include "train/metrics.h"

#include "core/error.h"

namespace bertscope {

ClassificationMetrics classification_metrics(const std::vector<int>& truth, const std::vector<int>& predicted, int labels) {
  if (truth.size() != predicted.size()) throw Error("internal: metrics need one prediction per example");
  ClassificationMetrics m;
  m.count = static_cast<int>(truth.size());
  m.confusion.assign(static_cast<size_t>(labels), std::vector<int>(static_cast<size_t>(labels), 0));
  int correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    ++m.confusion.at(static_cast<size_t>(truth[i])).at(static_cast<size_t>(predicted[i]));
    correct += truth[i] == predicted[i];
  }
  m.accuracy = m.count ? static_cast<double>(correct) / m.count : 0;
  for (int c = 0; c < labels; ++c) {
    int tp = m.confusion[static_cast<size_t>(c)][static_cast<size_t>(c)], fp = 0, fn = 0;
    for (int o = 0; o < labels; ++o)
      if (o != c) fp += m.confusion[static_cast<size_t>(o)][static_cast<size_t>(c)], fn += m.confusion[static_cast<size_t>(c)][static_cast<size_t>(o)];
    const double f1 = tp ? 2.0 * tp / (2.0 * tp + fp + fn) : 0.0;
    m.f1.push_back(f1);
    m.macro_f1 += f1 / labels;
  }
  return m;
}

}  // namespace bertscope
