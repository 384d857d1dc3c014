#pragma once
// Labelled sentences for classification: taken from two columns of a CSV table, labels mapped to ids, and split
// into training and validation sets with the same label proportions (stratified) and a seed.
#include <cstdint>
#include <string>
#include <vector>

#include "data/csv.h"

namespace bertscope {

struct Example {
  std::string text;
  int label = 0;  // index into LabelledData::labels
  int line = 0;   // where it came from
};

struct LabelledData {
  std::vector<std::string> labels;  // numeric labels in numeric order ("0", "1"), other labels sorted
  std::vector<Example> examples;
  std::vector<CsvProblem> problems;  // rows skipped (empty text or label), on top of the table's own
};

// With known_labels (a model's, in id order) those are the labels, and a label may also be written as its id.
// Throws Error when a column is missing, a row is bad and bad_rows is Stop, or fewer than two labels remain.
LabelledData labelled_examples(const CsvTable& table, const std::string& text_column, const std::string& label_column,
                               BadRows bad_rows = BadRows::Skip, const std::vector<std::string>& known_labels = {});

struct Split {
  std::vector<Example> train, validation;
};

// Every label keeps its share in both parts (validation gets round(fraction * count) of each label).
Split stratified_split(const std::vector<Example>& examples, int label_count, double validation_fraction, std::uint32_t seed);

}  // namespace bertscope
