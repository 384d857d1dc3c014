// libFuzzer harness: a safetensors file (header and data) as bertscope opens it, then every tensor read as float32.
#include <unistd.h>

#include <fstream>
#include <string>

#include "fuzz_support.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = fuzz::scratch_file("model.safetensors", data, size);
  fuzz::expect_clean_errors([&] {
    bertscope::SafetensorsFile file(path);
    std::vector<float> buffer;
    for (const auto& [name, info] : file.tensors()) file.read_f32(name, buffer);
  });
  return 0;
}
