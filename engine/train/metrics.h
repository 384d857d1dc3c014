#pragma once
// Classification metrics: accuracy, per-label and macro F1, and the confusion matrix (rows: true label,
// columns: predicted label).
#include <vector>

namespace bertscope {

struct ClassificationMetrics {
  int count = 0;
  double accuracy = 0;
  double macro_f1 = 0;              // mean of the per-label F1
  std::vector<double> f1;           // per label
  std::vector<std::vector<int>> confusion;
};

ClassificationMetrics classification_metrics(const std::vector<int>& truth, const std::vector<int>& predicted, int labels);

}  // namespace bertscope
