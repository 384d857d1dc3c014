// libFuzzer harness: a CoNLL or JSON-lines file of tagged sentences as NER training reads it, then seqeval's
// spans and scores of its tags against themselves.
#include <string_view>

#include "data/tagged.h"
#include "fuzz_support.h"
#include "train/seqeval.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  fuzz::expect_clean_errors([&] {
    const auto tagged = bertscope::parse_tagged(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    std::vector<std::vector<std::string>> tags;
    for (const auto& s : tagged.sentences) tags.push_back(s.tags);
    bertscope::seqeval(tags, tags, size > 0 && (data[0] & 1));
  });
  return 0;
}
