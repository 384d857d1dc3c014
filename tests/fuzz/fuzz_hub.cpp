// libFuzzer harness: what a Hugging Face Hub (or anything posing as one) sends bertscope: a response's header lines,
// then, after a blank line, a body read as the model-info JSON (its file list then goes through the file choice)
// and as a shard index. Header values also go through the redirect and etag handling and the error messages.
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "hub/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  using namespace bertscope::hub;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find("\r\n\r\n");
  const std::string_view head = input.substr(0, split), body = split == std::string_view::npos ? "" : input.substr(split + 4);
  Headers headers;
  long status = 200;
  for (size_t start = 0; start < head.size();) {
    const size_t end = std::min(head.find("\r\n", start), head.size());
    const std::string_view line = head.substr(start, end - start);
    if (const auto s = parse_status_line(line)) status = *s;
    if (auto h = parse_header_line(line)) {
      headers[h->first] = h->second;
      follow_location("https://huggingface.co/org/m/resolve/main/config.json", h->second);
      url_origin(h->second);
      normalize_etag(h->second);
      is_safe_revision(h->second);
      is_safe_repo_file(h->second);
      is_valid_repo_id(h->second);
    }
    start = end + 2;
  }
  fuzz::expect_clean_errors([&] { parse_file_metadata(status, headers, "https://huggingface.co/m/resolve/main/f"); });
  fuzz::expect_clean_errors([&] { error_from_status(status, headers, {"https://huggingface.co", "org/m", "main", "f", true}); });
  fuzz::expect_clean_errors([&] {
    const RepoInfo info = parse_model_info(body, "org/m");
    for (const auto& f : info.files) is_safe_repo_file(f);
    choose_files(info.files, "org/m");
  });
  fuzz::expect_clean_errors([&] { parse_shard_index(body, "model.safetensors.index.json"); });
  return 0;
}
