#include "cli/bench_command.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpu/vulkan_backend.h"
#include "core/error.h"
#include "tasks/tasks.h"
#include "train/fine_tune.h"

namespace bertscope::cli {
namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// A sentence of about `tokens` tokens with [CLS] and [SEP]: bench_hf.mjs's words, repeated, the sixth one masked.
std::string bench_text(int tokens) {
  static const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog",
                                "while", "a", "bank", "of", "the", "river", "was", "flooded"};
  std::string text;
  for (int i = 0; i < std::max(1, tokens - 3); ++i) text += std::string(i ? " " : "") + (i == 5 ? "[MASK]" : words[i % 17]);
  if (tokens - 3 <= 5) text += " [MASK]";
  return text;
}

}  // namespace

int bench_fill_mask(Session& session, int tokens, int reps) {
  const std::string text = bench_text(tokens);
  BertModel& model = session.model();
  const Tokenizer& tokenizer = session.tokenizer();
  auto* vulkan = dynamic_cast<gpu::VulkanBackend*>(&session.backend());
  // Before any pass: the GPU memory the loaded model's weights hold (halved matrices with the f16 variant).
  const double weights_mb = vulkan ? vulkan->tensor_bytes() / 1048576.0 : 0.0;
  fill_mask(model, tokenizer, text, 5);  // warm-up: pipelines built, buffers allocated, weights paged in

  // What one call records on the GPU: the counters are totals since the backend started, so take the difference.
  const int dispatches_before = vulkan ? vulkan->dispatch_count() : 0;
  const int barriers_before = vulkan ? vulkan->barrier_count() : 0;
  const int submissions_before = vulkan ? vulkan->submission_count() : 0;

  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fill_mask(model, tokenizer, text, 5);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  nlohmann::json result{{"engine", "bertscope"},
                        {"backend", session.info().backend},
                        {"tokens", tokenizer.encode(text).size()},
                        {"reps", reps},
                        {"median_ms", ms[ms.size() / 2]},
                        {"min_ms", ms.front()},
                        {"peak_rss_mb", peak_rss_mb()}};
  if (vulkan) {
    result["dispatches_per_call"] = (vulkan->dispatch_count() - dispatches_before) / reps;
    result["barriers_per_call"] = (vulkan->barrier_count() - barriers_before) / reps;
    result["submissions_per_call"] = (vulkan->submission_count() - submissions_before) / reps;
    result["kernel_variants"] = vulkan->kernel_variants().describe();
    result["weights_gpu_mb"] = weights_mb;
  }
  std::cout << result.dump() << std::endl;
  return 0;
}

int bench_sentences(Session& session, const std::string& file, int batch_size, int reps) {
  std::ifstream in(file);
  if (!in) throw Error(file + ": cannot open");
  std::vector<Example> sentences;
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('\t'));
    if (!line.empty()) sentences.push_back({line, 0, static_cast<int>(sentences.size()) + 1});
  }
  if (sentences.empty()) throw Error(file + ": no sentences");
  BertModel& model = session.model();
  const std::vector<Example> warm_up(sentences.begin(), sentences.begin() + std::min<size_t>(batch_size, sentences.size()));
  predict(model, session.tokenizer(), warm_up, 128, batch_size);

  std::vector<double> seconds;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    predict(model, session.tokenizer(), sentences, 128, batch_size);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::cout << nlohmann::json{{"engine", "bertscope"},
                              {"backend", session.info().backend},
                              {"sentences", sentences.size()},
                              {"batch_size", batch_size},
                              {"reps", reps},
                              {"median_s", median},
                              {"sentences_per_s", sentences.size() / median},
                              {"peak_rss_mb", peak_rss_mb()}}
                   .dump()
            << std::endl;
  return 0;
}

}  // namespace bertscope::cli
