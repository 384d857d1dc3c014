#pragma once
// Writes a Hugging Face BERT folder with seeded random weights (HF's init: N(0, init_std) matrices, zero biases,
// LayerNorm 1/0): the untrained placeholder default model, and models for tests and benchmarks.
#include <filesystem>
#include <string>
#include <vector>

namespace bertscope {

struct RandomModelSpec {
  std::filesystem::path vocab_file;  // vocab.txt to copy in
  int layers = 2, hidden = 128, heads = 2, intermediate = 512;
  int max_positions = 512;
  unsigned seed = 0;
  float init_std = 0.02f;
  bool untrained_label = false;  // marks config.json with "bertscope_untrained": true
  // The head: masked LM (default), sequence classification over `labels` (pooler + classifier), token
  // classification over `labels` (classifier), or extractive
  // question answering (qa_outputs). Models with a classifier or QA head get no MLM head, as Hugging Face's do.
  std::vector<std::string> labels;
  bool token_classification = false;  // with labels: a label per token (BertForTokenClassification, no pooler)
  bool question_answering = false;
  // Position embeddings as sines and cosines of the position (scaled to the same size as the random rows) instead
  // of noise: positions start distinguishable, with relative offsets a linear map away, which helps pre-training
  // leave the "predict frequent tokens" plateau. Still an ordinary learned table in the checkpoint.
  bool sinusoidal_positions = false;
};

// Writes into a temporary folder next to `folder`, then renames it: never a half-written model.
void write_random_model(const std::filesystem::path& folder, const RandomModelSpec& spec);

}  // namespace bertscope
