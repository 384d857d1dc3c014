#pragma once
// The Hugging Face Hub's protocol as huggingface_hub speaks it (file_download.py, hf_api.py, utils/_http.py),
// reduced to what bertscope needs, as pure functions over strings: no network, no disk. They parse what a server
// sends (headers, the model-info JSON, a shard index), so every one of them takes hostile input without crashing
// (tests/fuzz/fuzz_hub.cpp).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/hub_error.h"

namespace bertscope::hub {

// Response headers, names lower-cased (HTTP header names are case-insensitive); a repeated header keeps its last value.
using Headers = std::map<std::string, std::string>;

// "name" or "org/name": letters, digits, '-', '_' and '.', starting and ending with a letter, digit or '_', at
// most 96 characters a part, no "--" or "..", not ending in ".git" (huggingface_hub's validate_repo_id).
bool is_valid_repo_id(std::string_view id);
// A full git commit id: 40 lower-case hex digits.
bool is_commit_hash(std::string_view s);
// An LFS file's etag is its sha256: 64 lower-case hex digits.
bool is_sha256(std::string_view s);
// A branch or tag name safe to store under refs/: no "..", no empty part, no leading '/', printable ASCII only.
bool is_safe_revision(std::string_view revision);
// An etag usable as a file name under blobs/ (hex digits, letters, '-', '_', '.'; not "." or "..").
bool is_safe_etag(std::string_view etag);
// A repository file bertscope may lay out in a snapshot: relative, no "..", no empty parts, no backslash.
bool is_safe_repo_file(std::string_view file);

// "models--ORG--NAME" (huggingface_hub's repo_folder_name for a model).
std::string repo_folder_name(const std::string& repo_id);
// The repository id a cache folder name stands for, or nothing when it is not a model's folder.
std::optional<std::string> repo_id_from_folder(std::string_view folder_name);

// Percent-encodes all but unreserved characters and those in `safe` (as Python's urllib.parse.quote).
std::string url_quote(std::string_view s, std::string_view safe = "/");
// {endpoint}/{id}/resolve/{revision}/{file}, the revision quoted whole (a '/' in it too), the file's '/' kept.
std::string resolve_url(const std::string& endpoint, const std::string& repo_id, const std::string& revision,
                        const std::string& file);
// {endpoint}/api/models/{id}/revision/{revision}
std::string model_info_url(const std::string& endpoint, const std::string& repo_id, const std::string& revision);
// The "scheme://host[:port]" of a URL (lower-cased), empty when it has none.
std::string url_origin(std::string_view url);
// Where a Location header points, made absolute against the URL it answered.
std::string follow_location(const std::string& url, const std::string& location);

// One header line ("Name: value\r\n") as (lower-cased name, trimmed value); nothing for a status line or garbage.
std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line);
// An HTTP status line's code ("HTTP/1.1 302 Found" -> 302), or nothing.
std::optional<long> parse_status_line(std::string_view line);
// An ETag without its weak marker and quotes: W/"abc" -> abc.
std::string normalize_etag(std::string_view etag);

// What a HEAD on resolve/ tells about a file (huggingface_hub's HfFileMetadata).
struct FileMetadata {
  std::string commit;    // X-Repo-Commit
  std::string etag;      // X-Linked-Etag, else ETag, normalised: the sha256 for LFS files, the git blob id otherwise
  std::string location;  // where to GET it: the redirect's target, or the URL asked
  std::optional<std::uint64_t> size;  // X-Linked-Size, else Content-Length of a non-redirect answer
  bool lfs() const { return is_sha256(etag); }
};
// Reads the metadata from a HEAD answer to `url` (a 2xx or a 3xx to another host). Throws HubError (BadAnswer)
// naming what is missing: a server that is not the Hub (a proxy, a captive portal) answers without them.
FileMetadata parse_file_metadata(long status, const Headers& headers, const std::string& url);

// A repository as GET /api/models/{id}/revision/{rev} describes it.
struct RepoInfo {
  std::string commit;               // "sha"
  std::vector<std::string> files;   // siblings[].rfilename
  std::string gated;                // "", "auto" or "manual"
};
RepoInfo parse_model_info(std::string_view body, const std::string& repo_id);

// The shard files a *.index.json's weight_map lists, each once, in first-seen order; plain file names only.
std::vector<std::string> parse_shard_index(std::string_view body, const std::string& source);

// Which of a repository's files bertscope needs: config.json, the tokenizer's files, and one weight format
// (model.safetensors; else the safetensors index, whose shards come once it is read; else pytorch_model.bin; else
// its index). Never TF, Flax, ONNX or Rust weights, and nothing in subfolders. Throws HubError (EntryNotFound)
// when there is no config.json or no weights bertscope reads, naming what the repository has instead.
struct FileChoice {
  std::vector<std::string> files;  // without the shards
  std::string index;               // "model.safetensors.index.json" / "pytorch_model.bin.index.json", or empty
};
FileChoice choose_files(const std::vector<std::string>& repo_files, const std::string& repo_id);

// The Hub's words for an error answer, as huggingface_hub's hf_raise_for_status reads X-Error-Code (and a 401
// without one), turned into a HubError that says what to do. `file` is empty for the model-info request.
struct RequestContext {
  std::string endpoint, repo_id, revision, file;
  bool token_sent = false;
};
HubError error_from_status(long status, const Headers& headers, const RequestContext& context);

}  // namespace bertscope::hub
