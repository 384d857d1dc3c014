// libFuzzer harness: a pytorch_model.bin as bertscope opens it (zip or legacy format), then every tensor read as
// float32. Inputs starting with 'Z' are a data.pkl alone: the harness stores it in a zip archive beside storages
// of 16, 24 and 12 bytes (the seed tiny_zip.bin's), so mutations reach the unpickler past the archive's CRC checks.
#include <zip.h>

#include <string>

#include "fuzz_support.h"
#include "model/torch_file.h"

namespace {

std::string zip_around_pickle(const std::uint8_t* data, size_t size) {
  const auto path = (fuzz::scratch_folder() / "wrapped.bin").string();
  int error = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (!z) return path;
  static const std::string storages[] = {std::string(16, '\x01'), std::string(24, '\x02'), std::string(12, '\x03')};
  auto add = [&](const std::string& name, const void* bytes, size_t n) {
    zip_source_t* src = zip_source_buffer(z, bytes, n, 0);
    const zip_int64_t index = src ? zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE) : -1;
    if (index >= 0) zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
    else if (src) zip_source_free(src);
  };
  add("archive/data.pkl", data, size);
  for (int k = 0; k < 3; ++k) add("archive/data/" + std::to_string(k), storages[k].data(), storages[k].size());
  if (zip_close(z) != 0) zip_discard(z);
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  const std::string path = size > 0 && data[0] == 'Z' ? zip_around_pickle(data + 1, size - 1)
                                                      : fuzz::scratch_file("pytorch_model.bin", data, size);
  fuzz::expect_clean_errors([&] {
    bertscope::TorchFile file(path);
    std::vector<float> buffer;
    for (const auto& [name, info] : file.tensors()) file.read_f32(name, buffer);
  });
  return 0;
}
