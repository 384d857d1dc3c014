#include "core/safe_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <regex>

#include "core/error.h"
#include "core/test_hooks.h"

namespace fs = std::filesystem;

namespace bertscope {

namespace {

std::string quoted(const fs::path& p) { return "\"" + p.string() + "\""; }

// Is `inner` the same folder as `outer`, or inside it?
bool is_within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

// Swaps two paths atomically; false where the kernel or file system cannot (then the caller uses two renames).
bool exchange_paths(const fs::path& a, const fs::path& b) {
#if defined(SYS_renameat2)
  if (test_hooks::rename_exchange_disabled()) return false;
  constexpr unsigned rename_exchange = 1u << 1;  // RENAME_EXCHANGE, not declared by every libc
  if (syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), rename_exchange) == 0) return true;
  if (errno != EINVAL && errno != ENOSYS)
    throw Error("cannot put " + quoted(a) + " in place of " + quoted(b) + ": " + std::strerror(errno));
#endif
  return false;
}

// Moves `from` to `to` unless `to` exists (then Error); false where the kernel or file system cannot do that in one
// step (then the caller checks and renames).
bool rename_no_replace(const fs::path& from, const fs::path& to) {
#if defined(SYS_renameat2)
  constexpr unsigned no_replace = 1u << 0;  // RENAME_NOREPLACE, not declared by every libc
  if (syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), no_replace) == 0) return true;
  if (errno == EEXIST)
    throw Error(quoted(to) + " appeared while bertscope was writing it; bertscope does not overwrite files, and wrote nothing");
  if (errno != EINVAL && errno != ENOSYS)
    throw Error("cannot put " + quoted(from) + " in place of " + quoted(to) + ": " + std::strerror(errno));
#endif
  return false;
}

}  // namespace

fs::path output_path(const fs::path& requested) {
  if (requested.empty()) throw Error("no output path given");
  fs::path p = fs::absolute(requested).lexically_normal();
  while (!p.has_filename() && p.has_relative_path()) p = p.parent_path();  // "out/" -> "out"
  if (!p.has_relative_path()) throw Error("refusing to write over " + quoted(p) + ": choose a new folder");
  if (is_within(fs::current_path().lexically_normal(), p))
    throw Error("refusing to write over " + quoted(requested) + ": it is the current folder or one above it; choose a new folder");
  return p;
}

bool is_model_file_name(const std::string& name) {
  static const std::set<std::string> names = {
      "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
      "pytorch_model.bin", "pytorch_model.bin.index.json", "vocab.txt", "vocab.json", "merges.txt",
      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"};
  static const std::regex shard(R"((model|pytorch_model)-\d{5}-of-\d{5}\.(safetensors|bin))");
  return names.count(name) > 0 || std::regex_match(name, shard);
}

bool is_checkpoint_file_name(const std::string& name) {
  return is_model_file_name(name) || name == "optimizer.safetensors" || name == "state.json";
}

void check_replaceable_folder(const fs::path& folder, bool (*ours)(const std::string&), const std::string& what) {
  std::error_code ec;
  const auto status = fs::symlink_status(folder, ec);
  if (!fs::exists(status)) return;
  if (!fs::is_directory(status))
    throw Error(quoted(folder) + " exists and is not a folder; choose another name for " + what);
  std::vector<std::string> names;
  bool foreign = false, a_model = true;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    names.push_back(name);
    // Only plain files can be ours: a folder or a link under a checkpoint file's name is the user's.
    const bool plain = entry.is_regular_file() && !entry.is_symlink();
    foreign |= !ours || !ours(name) || !plain;
    a_model &= plain && is_model_file_name(name);
  }
  if (!foreign) return;
  std::sort(names.begin(), names.end());
  std::string list;
  for (size_t i = 0; i < names.size() && i < 3; ++i) list += (i ? ", " : "") + names[i];
  if (names.size() > 3) list += " and " + std::to_string(names.size() - 3) + " more";
  if (a_model)
    throw Error(quoted(folder) + " already exists and holds a model (" + list +
                "); bertscope never replaces it. Choose another output folder or remove it yourself");
  throw Error(quoted(folder) + " already exists and holds files (" + list + "); bertscope writes " + what +
              " only into a new or empty folder, and wrote nothing. Choose another output folder");
}

void check_model_output(const fs::path& folder) {
  check_replaceable_folder(output_path(folder), nullptr, "a model folder");
}

void check_new_file(const fs::path& file) {
  std::error_code ec;
  if (fs::exists(fs::symlink_status(file, ec)))
    throw Error(quoted(file) + " already exists; bertscope does not overwrite files. Choose a new name or remove it first");
}

fs::path make_temporary_folder_beside(const fs::path& near) {
  static std::atomic<int> counter{0};
  const fs::path parent = near.parent_path();
  fs::create_directories(parent);
  for (int tries = 0; tries < 1000; ++tries) {
    const fs::path candidate = parent / ("." + near.filename().string() + ".bertscope-" + std::to_string(getpid()) +
                                         "-" + std::to_string(counter++));
    if (fs::create_directory(candidate)) return candidate;  // false: exists already (not ours), try another name
  }
  throw Error("cannot create a temporary folder in " + quoted(parent));
}

StagedFolder::StagedFolder(const fs::path& destination, bool (*replaceable)(const std::string&), const std::string& what)
    : destination_(output_path(destination)), replaceable_(replaceable), what_(what) {
  check_replaceable_folder(destination_, replaceable_, what_);
  staging_ = make_temporary_folder_beside(destination_);
}

StagedFolder::~StagedFolder() {
  if (committed_) return;
  std::error_code ignored;
  fs::remove_all(staging_, ignored);  // created by this object: nobody else's files are in it
}

void StagedFolder::commit() {
  test_hooks::pause_point("staged-written");  // every file written, none flushed yet
  sync_tree(staging_);
  // The destination may have changed since we checked it (another program, the user): check again.
  check_replaceable_folder(destination_, replaceable_, what_);
  test_hooks::pause_point("staged-flushed");  // complete on disk, not yet in place
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(destination_, ec)) || fs::is_empty(destination_, ec)) {
    // Absent or empty: one rename(2) puts the new folder in place, and fails (ENOTEMPTY) rather than replace a
    // folder that something has written into since the check.
    fs::rename(staging_, destination_, ec);
    if (ec) throw Error("cannot put " + what_ + " in place at " + quoted(destination_) + ": " + ec.message() + "; nothing was replaced");
  } else if (exchange_paths(staging_, destination_)) {  // only a checkpoint of this run's own (replaceable_ given)
    test_hooks::pause_point("staged-swapped");
    fs::remove_all(staging_);  // now the old checkpoint, which held only checkpoint files
  } else {
    const fs::path old = make_temporary_folder_beside(destination_);
    fs::remove(old);  // a unique name we own, for the old folder
    fs::rename(destination_, old);
    // A kill here leaves no destination, the old and the new folder complete under their hidden names; a pre-training
    // run finds its checkpoint there (interrupted_checkpoint in train/pretraining.cpp).
    test_hooks::pause_point("staged-between-renames");
    fs::rename(staging_, destination_);
    fs::remove_all(old);
  }
  committed_ = true;
  sync_to_disk(destination_.parent_path());
}

void sync_to_disk(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + quoted(path) + " to flush it to disk: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw Error("cannot flush " + quoted(path) + " to disk: " + std::strerror(err));
}

void sync_tree(const fs::path& folder) {
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file()) sync_to_disk(entry.path());
  sync_to_disk(folder);
}

void write_file_atomically(const fs::path& file, std::string_view content) {
  static std::atomic<int> counter{0};
  const fs::path tmp = file.parent_path() / ("." + file.filename().string() + ".bertscope-" + std::to_string(getpid()) +
                                             "-" + std::to_string(counter++));
  FILE* f = std::fopen(tmp.c_str(), "wbx");  // x: never reuse a file that is already there
  if (!f) throw Error("cannot write " + quoted(file) + ": " + std::strerror(errno));
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size() && std::fflush(f) == 0 &&
                       ::fsync(fileno(f)) == 0;
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    std::remove(tmp.c_str());
    throw Error("cannot write " + quoted(file) + ": " + std::strerror(written ? errno : err));
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error("cannot write " + quoted(file) + ": " + ec.message());
  }
  sync_to_disk(file.parent_path().empty() ? fs::path(".") : file.parent_path());
}

StagedFile::StagedFile(const fs::path& destination) : destination_(output_path(destination)) {
  check_new_file(destination_);
  const fs::path folder = destination_.parent_path();
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw Error("cannot write " + quoted(destination_) + ": there is no folder " + quoted(folder));
  static std::atomic<int> counter{0};
  staging_ = folder / ("." + destination_.filename().string() + ".bertscope-" + std::to_string(getpid()) + "-" +
                       std::to_string(counter++));
  const int fd = ::open(staging_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // never a file already there
  if (fd < 0) throw Error("cannot write in " + quoted(folder) + ": " + std::strerror(errno));
  ::close(fd);
  out_.open(staging_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    std::remove(staging_.c_str());
    throw Error("cannot write in " + quoted(folder));
  }
}

StagedFile::~StagedFile() {
  if (committed_) return;
  out_.close();
  std::error_code ignored;
  fs::remove(staging_, ignored);  // created by this object
}

void StagedFile::commit() {
  out_.flush();
  const int err = errno;
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || out_.fail())
    throw Error("cannot write " + quoted(destination_) + ": " + std::strerror(err ? err : EIO) + "; nothing was written");
  sync_to_disk(staging_);
  if (!rename_no_replace(staging_, destination_)) {
    check_new_file(destination_);
    fs::rename(staging_, destination_);
  }
  committed_ = true;
  sync_to_disk(destination_.parent_path());
}

void commit_together(StagedFile& first, StagedFile& second) {
  first.commit();
  try {
    second.commit();
  } catch (...) {
    std::error_code ignored;
    fs::remove(first.destination(), ignored);  // put there by this call, over nothing (no-replace rename)
    throw;
  }
}

}  // namespace bertscope
