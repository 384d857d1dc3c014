// libFuzzer harness: a CSV/TSV file as the fine-tune import reads it (detection of delimiter and header, quoting),
// then the labelled examples of its first two columns.
#include <string_view>

#include "data/csv.h"
#include "data/dataset.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  fuzz::expect_clean_errors([&] {
    const auto table = bertscope::parse_csv(std::string_view(reinterpret_cast<const char*>(data), size));
    if (table.columns.size() >= 2) bertscope::labelled_examples(table, "1", "2");
  });
  return 0;
}
