// libFuzzer harness: config.json as bertscope reads it (bounded JSON, then the BERT configuration's checks).
#include <string_view>

#include "core/json_io.h"
#include "fuzz_support.h"
#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  fuzz::expect_clean_errors([&] {
    const auto j = bertscope::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "config.json");
    bertscope::ModelConfig::from_json(j, "config.json");
  });
  return 0;
}
