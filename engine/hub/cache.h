#pragma once
// The Hugging Face cache, laid out exactly as huggingface_hub lays it out, so a model downloaded by Python opens
// here and the other way round:
//   <cache>/models--ORG--NAME/
//     blobs/<etag>                   the file itself: sha256 for LFS files, the git blob id otherwise
//     blobs/<etag>.incomplete        a download under way or cut short (bertscope resumes it with Range)
//     refs/<revision>                the commit a branch or tag stood for when last downloaded (no newline)
//     snapshots/<commit>/<file>      a relative link to ../../blobs/<etag>
//   <cache>/.locks/models--ORG--NAME/<etag>.lock   held (flock) while a blob downloads, as huggingface_hub does
// A link appears in snapshots/ only once its blob is complete and checked, so snapshots/ never holds a half file.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bertscope::hub {

struct CachedRevision {
  std::string commit;
  std::vector<std::string> refs;      // branches and tags that point at it ("main")
  std::filesystem::path snapshot;     // snapshots/<commit>
  std::vector<std::string> missing;   // what it lacks to be opened (see missing_model_files); empty: complete
};

struct CachedModel {
  std::string id;                     // "org/name"
  std::filesystem::path folder;       // <cache>/models--org--name
  std::uint64_t bytes = 0;            // blobs on disk, partial downloads included
  std::vector<CachedRevision> revisions;
};

class HubCache {
 public:
  explicit HubCache(std::filesystem::path root) : root_(std::move(root)) {}
  const std::filesystem::path& root() const { return root_; }

  std::filesystem::path repo_folder(const std::string& id) const;
  std::filesystem::path snapshot_folder(const std::string& id, const std::string& commit) const;
  std::filesystem::path blob(const std::string& id, const std::string& etag) const;
  std::filesystem::path lock_file(const std::string& id, const std::string& etag) const;

  // The commit a revision stands for here: itself when it is a full commit id, else what refs/<revision> holds.
  std::optional<std::string> commit_of(const std::string& id, const std::string& revision) const;
  // snapshots/<commit> for the revision when it holds everything a model needs, else nothing.
  std::optional<std::filesystem::path> complete_snapshot(const std::string& id, const std::string& revision) const;

  // refs/<revision> := commit, written atomically (a reader never sees half of it); nothing when they are equal.
  void write_ref(const std::string& id, const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<file> -> ../../blobs/<etag>, created atomically (a link at a temporary name, renamed).
  void link(const std::string& id, const std::string& commit, const std::string& file, const std::string& etag) const;
  // CACHEDIR.TAG in the cache's root, so backup tools skip it (huggingface_hub writes one too).
  void tag_cache_folder() const;

  std::vector<CachedModel> list() const;
  std::optional<CachedModel> find(const std::string& id) const;
  // Deletes the model's folder (and its locks). Refuses a folder holding anything huggingface_hub does not put
  // there. Returns the bytes freed.
  std::uint64_t remove(const std::string& id) const;

 private:
  std::filesystem::path root_;
};

// What a folder lacks to be opened as a model: "config.json", "weights (model.safetensors or pytorch_model.bin)",
// a shard an index lists, "tokenizer files (...)". Empty when it is complete.
std::vector<std::string> missing_model_files(const std::filesystem::path& folder);

}  // namespace bertscope::hub
