// libFuzzer harness: a SQuAD JSON or JSON-lines file as QA fine-tuning and evaluation read it, then the official
// scores of its own first answers (and of an empty answer) against it.
#include <map>
#include <string_view>

#include "data/squad.h"
#include "fuzz_support.h"
#include "train/squad_metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  fuzz::expect_clean_errors([&] {
    const auto qa = bertscope::parse_qa(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    std::map<std::string, bertscope::QaPrediction> predictions;
    for (const auto& e : qa.examples)
      predictions[e.id] = {e.answers.empty() ? std::string() : e.answers.front().text, (e.id.size() % 7) / 7.0};
    bertscope::score_squad(qa.examples, predictions, qa.has_unanswerable);
    bertscope::score_squad(qa.examples, {}, !qa.has_unanswerable);
  });
  return 0;
}
