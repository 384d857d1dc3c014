#pragma once
// Fetching a model from the Hugging Face Hub into its cache, as huggingface_hub's snapshot_download does, limited
// to the files bertscope needs (protocol.h's choose_files):
//   1. GET {endpoint}/api/models/{id}/revision/{rev}: the commit and the file list;
//   2. per file, HEAD {endpoint}/{id}/resolve/{commit}/{file} (only same-host redirects followed): X-Repo-Commit,
//      X-Linked-Etag or ETag, X-Linked-Size or Content-Length, and where an LFS file really lies (Location);
//   3. per missing blob, GET there (redirects followed; the token is sent to the Hub's host only) into
//      blobs/<etag>.incomplete, resumed with Range after a drop, LFS files checked against their sha256, then
//      renamed to blobs/<etag>;
//   4. once every blob is in, the links in snapshots/<commit>/, then refs/<rev>.
// So a failed or cancelled download leaves nothing in snapshots/ (the .incomplete part stays for next time).
// When the Hub cannot be reached (or answers with an error other than "no such revision") the cache answers
// instead, with a note; HF_HUB_OFFLINE=1 never asks the Hub.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "hub/http.h"
#include "hub/hub_error.h"
#include "hub/settings.h"

namespace bertscope::hub {

struct DownloadProgress {
  std::string file;                    // the file arriving now
  std::uint64_t done = 0, total = 0;   // bytes of every file this download fetches (a resumed part counts as done)
  double bytes_per_second = 0;         // over the last few seconds
  double eta_seconds = -1;             // -1: not known yet
  int files_done = 0, file_count = 0;  // the files this download fetches
};

struct FetchOptions {
  std::string revision = "main";                              // a branch, a tag or a commit id
  std::function<void(const DownloadProgress&)> on_progress;   // at most ~10 times a second, and when a file ends
  std::function<void(const std::string&)> on_note;            // what the user should know (e.g. "offline: cache used")
  const std::atomic<bool>* cancel = nullptr;                  // set from another thread to stop (HubError Cancelled)
  int resume_attempts = 3;       // after a dropped connection, resume at once this many times (then: next run)
  std::optional<HubSettings> settings;             // default: hub_settings_from_environment()
  std::function<std::unique_ptr<Http>()> make_http;  // default: libcurl
};

struct FetchResult {
  std::filesystem::path folder;  // snapshots/<commit>: a model folder
  std::string commit;
  bool from_cache = false;       // no file was fetched
};

// Asks the Hub what the revision is now and fetches what the cache lacks. Throws HubError.
FetchResult download_model(const std::string& repo_id, const FetchOptions& options = {});
// The cache first (no network at all when the revision is there and complete), else download_model.
FetchResult open_hub_model(const std::string& repo_id, const FetchOptions& options = {});

}  // namespace bertscope::hub
