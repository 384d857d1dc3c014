#include "hub/cache.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <set>

#include "core/error.h"
#include "core/read_file.h"
#include "core/safe_files.h"
#include "hub/protocol.h"

namespace fs = std::filesystem;

namespace bertscope::hub {

namespace {

std::string read_ref(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || fs::file_size(file, ec) > 256) return "";
  std::ifstream in(file);
  std::string commit;
  std::getline(in, commit);
  while (!commit.empty() && (commit.back() == '\r' || commit.back() == ' ')) commit.pop_back();
  return is_commit_hash(commit) ? commit : "";
}

std::uint64_t blob_bytes(const fs::path& repo) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::directory_iterator it(repo / "blobs", ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  return total;
}

}  // namespace

fs::path HubCache::repo_folder(const std::string& id) const { return root_ / repo_folder_name(id); }
fs::path HubCache::snapshot_folder(const std::string& id, const std::string& commit) const {
  return repo_folder(id) / "snapshots" / commit;
}
fs::path HubCache::blob(const std::string& id, const std::string& etag) const { return repo_folder(id) / "blobs" / etag; }
fs::path HubCache::lock_file(const std::string& id, const std::string& etag) const {
  return root_ / ".locks" / repo_folder_name(id) / (etag + ".lock");
}

std::optional<std::string> HubCache::commit_of(const std::string& id, const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  if (!is_safe_revision(revision)) return std::nullopt;
  const std::string commit = read_ref(repo_folder(id) / "refs" / revision);
  if (commit.empty()) return std::nullopt;
  return commit;
}

std::optional<fs::path> HubCache::complete_snapshot(const std::string& id, const std::string& revision) const {
  const auto commit = commit_of(id, revision);
  if (!commit) return std::nullopt;
  const fs::path folder = snapshot_folder(id, *commit);
  std::error_code ec;
  if (!fs::is_directory(folder, ec) || !missing_model_files(folder).empty()) return std::nullopt;
  return folder;
}

void HubCache::write_ref(const std::string& id, const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  if (!is_safe_revision(revision)) throw Error("'" + revision + "' is not a revision name bertscope can store");
  const fs::path file = repo_folder(id) / "refs" / revision;
  if (read_ref(file) == commit) return;  // unchanged: no write (the cache may be read-only)
  fs::create_directories(file.parent_path());
  write_file_atomically(file, commit);
}

void HubCache::link(const std::string& id, const std::string& commit, const std::string& file, const std::string& etag) const {
  const fs::path pointer = snapshot_folder(id, commit) / file;
  fs::create_directories(pointer.parent_path());
  // Relative, so the cache can move: one "../" per folder between the link and the repository's folder.
  std::string target = "../../";
  for (char c : file) if (c == '/') target += "../";
  target += "blobs/" + etag;
  static std::atomic<int> counter{0};
  const fs::path tmp = pointer.parent_path() / ("." + pointer.filename().string() + ".bertscope-" +
                                                std::to_string(getpid()) + "-" + std::to_string(counter++));
  std::error_code ec;
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, pointer, ec);
  if (ec) {
    fs::remove(tmp);
    throw Error("cannot link " + pointer.string() + " to its blob: " + ec.message());
  }
}

void HubCache::tag_cache_folder() const {
  const fs::path tag = root_ / "CACHEDIR.TAG";
  std::error_code ec;
  if (fs::exists(tag, ec)) return;
  try {  // the standard's signature line (https://bford.info/cachedir/), then a comment
    write_file_atomically(tag, "Signature: 8a477f597d28d172789f06886806bc55\n"
                               "# The Hugging Face Hub cache (shared by huggingface_hub and bertscope).\n");
  } catch (const Error&) {
    // a read-only or shared cache root: the tag is a courtesy to backup tools, never a reason to fail
  }
}

std::vector<CachedModel> HubCache::list() const {
  std::vector<CachedModel> models;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto id = repo_id_from_folder(it->path().filename().string());
    if (!id || !it->is_directory(ec)) continue;
    if (auto m = find(*id)) models.push_back(std::move(*m));
  }
  std::sort(models.begin(), models.end(), [](const CachedModel& a, const CachedModel& b) { return a.id < b.id; });
  return models;
}

std::optional<CachedModel> HubCache::find(const std::string& id) const {
  CachedModel m;
  m.id = id;
  m.folder = repo_folder(id);
  std::error_code ec;
  if (!fs::is_directory(m.folder, ec)) return std::nullopt;
  m.bytes = blob_bytes(m.folder);
  std::map<std::string, std::vector<std::string>> refs;  // commit -> names
  const fs::path refs_folder = m.folder / "refs";
  for (fs::recursive_directory_iterator it(refs_folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().filename().string().front() == '.') continue;
    const std::string commit = read_ref(it->path());
    if (!commit.empty()) refs[commit].push_back(it->path().lexically_relative(refs_folder).generic_string());
  }
  for (fs::directory_iterator it(m.folder / "snapshots", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string commit = it->path().filename().string();
    if (!it->is_directory(ec) || commit.front() == '.') continue;
    CachedRevision r;
    r.commit = commit;
    r.refs = refs[commit];
    r.snapshot = it->path();
    r.missing = missing_model_files(it->path());
    m.revisions.push_back(std::move(r));
  }
  std::sort(m.revisions.begin(), m.revisions.end(), [](const CachedRevision& a, const CachedRevision& b) {
    return a.refs.size() != b.refs.size() ? a.refs.size() > b.refs.size() : a.commit < b.commit;
  });
  return m;
}

std::uint64_t HubCache::remove(const std::string& id) const {
  const auto m = find(id);
  if (!m) throw Error(id + " is not in the Hugging Face cache (" + root_.string() + ")");
  // Only what huggingface_hub itself puts in a repository's folder: anything else is someone's own file.
  static const std::set<std::string> known = {"blobs", "refs", "snapshots", ".no_exist", "trees"};
  std::error_code ec;
  for (fs::directory_iterator it(m->folder, ec), end; !ec && it != end; it.increment(ec))
    if (!known.count(it->path().filename().string()))
      throw Error(m->folder.string() + " holds '" + it->path().filename().string() +
                  "', which the Hugging Face cache does not put there; not removing it (delete the folder yourself)");
  if (ec) throw Error("cannot read " + m->folder.string() + ": " + ec.message());
  fs::remove_all(m->folder, ec);
  if (ec) throw Error("cannot remove " + m->folder.string() + ": " + ec.message());
  fs::remove_all(root_ / ".locks" / repo_folder_name(id), ec);  // best effort: only empty lock files
  return m->bytes;
}

std::vector<std::string> missing_model_files(const fs::path& folder) {
  std::vector<std::string> missing;
  std::error_code ec;
  auto has = [&](const char* name) { return fs::exists(folder / name, ec); };  // follows links: a dangling one is absent
  if (!has("config.json")) missing.push_back("config.json");
  const char* index = has("model.safetensors") || has("pytorch_model.bin") ? nullptr
                      : has("model.safetensors.index.json")               ? "model.safetensors.index.json"
                      : has("pytorch_model.bin.index.json")               ? "pytorch_model.bin.index.json"
                                                                          : "";
  if (index && !*index) missing.push_back("weights (model.safetensors or pytorch_model.bin)");
  if (index && *index) {
    try {
      for (const auto& shard : parse_shard_index(read_file_bounded(folder / index, 64u << 20, "a shard index"), index))
        if (!fs::exists(folder / shard, ec)) missing.push_back(shard);
    } catch (const Error&) {
      missing.push_back(std::string("a readable ") + index);
    }
  }
  if (!has("tokenizer.json") && !has("vocab.txt") && !(has("vocab.json") && has("merges.txt")))
    missing.push_back("tokenizer files (tokenizer.json, vocab.txt, or vocab.json and merges.txt)");
  return missing;
}

}  // namespace bertscope::hub
