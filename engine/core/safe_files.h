#pragma once
// Writing to the user's disk without ever losing what is there. Every file and folder bertscope writes goes through
// here, so the rules live in one place:
//   - a result is built under a temporary name this run created, flushed to disk (fsync), and only then moved into
//     place; a crash or a full disk leaves the previous result, never a half-written one;
//   - an output folder the user names (a model from train, convert, shrink, random-model, pretrain --export, a new
//     pre-training run) must be absent or empty; anything else is refused before any work starts, a folder holding
//     an earlier model included: bertscope never replaces a user's folder, whatever it holds;
//   - the one folder ever replaced is a pre-training run's own checkpoint, by the run that wrote it (the caller says
//     so, and the folder must hold only checkpoint files);
//   - an existing file is never overwritten unless the caller owns it (a checkpoint's state, a run's options);
//   - nothing is removed that this run did not create, or that was not its own checkpoint being replaced.
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>

namespace bertscope {

// The output path as the user meant it: absolute and normalised, a trailing slash dropped, relative names and
// non-ASCII names kept. Refuses "", the root, and the current folder or any folder above it.
std::filesystem::path output_path(const std::filesystem::path& requested);

// The files a Hugging Face model folder may hold (what bertscope or Hugging Face's save_pretrained writes); only to
// tell the user that a refused folder holds a model.
bool is_model_file_name(const std::string& name);
// The files of a pre-training checkpoint: a model folder's and the optimizer state (optimizer.safetensors,
// state.json). What a run's next checkpoint may replace.
bool is_checkpoint_file_name(const std::string& name);

// Throws Error unless `folder` is absent, empty, or (only when `ours` is given) holds only plain files for which
// `ours` is true. `what` names the kind of folder in the message ("a model folder"). The message names the folder
// and what it holds, and says to choose another.
void check_replaceable_folder(const std::filesystem::path& folder, bool (*ours)(const std::string& name),
                              const std::string& what);
// The output folder of a model (--out, convert's and shrink's OUT): refused unless absent or empty. Call it before
// the work starts, so a refusal costs nothing.
void check_model_output(const std::filesystem::path& folder);
// Throws Error when `file` exists: bertscope never overwrites a file of the user's (its own input included).
void check_new_file(const std::filesystem::path& file);

// A folder built under a temporary name beside its destination and moved into place by commit(). The destination
// must be absent or empty (checked now, before the work, and again at commit; rename(2) itself refuses a folder
// that is no longer empty). Only a pre-training run's own checkpoint is replaced: swapped atomically (renameat2
// RENAME_EXCHANGE; two renames where the file system lacks it), the old one removed only once the new one is
// complete on disk. Destroyed without commit(), it removes the temporary folder (which only this object created)
// and leaves the destination untouched.
class StagedFolder {
 public:
  // `replaceable`: nullptr (everything a user names) refuses a destination that is not empty. A caller replacing a
  // folder it wrote itself (pretraining.cpp's checkpoint, with is_checkpoint_file_name) names the entries that
  // folder may hold; anything else in it is refused.
  explicit StagedFolder(const std::filesystem::path& destination, bool (*replaceable)(const std::string&) = nullptr,
                        const std::string& what = "a model folder");
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  const std::filesystem::path& path() const { return staging_; }
  const std::filesystem::path& destination() const { return destination_; }
  void commit();

 private:
  std::filesystem::path destination_, staging_;
  bool (*replaceable_)(const std::string&);
  std::string what_;
  bool committed_ = false;
};

// A new file built under a temporary name beside its destination and put in place by commit(), for results written
// as they are computed (too large to hold in memory): flushed to disk first, and never over an existing file (checked
// when constructed, so before the work, and again by the rename itself: renameat2 RENAME_NOREPLACE, or a check and
// a rename where the file system lacks it). Destroyed without commit(), it removes its temporary file, which only
// this object created, and leaves the destination untouched.
class StagedFile {
 public:
  explicit StagedFile(const std::filesystem::path& destination);
  ~StagedFile();
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;

  std::ostream& stream() { return out_; }
  const std::filesystem::path& destination() const { return destination_; }
  // Throws Error naming the file on any failed write (a full disk included), or when the destination now exists.
  void commit();

 private:
  std::filesystem::path destination_, staging_;
  std::ofstream out_;
  bool committed_ = false;
};

// Commits `first`, then `second` (an array and the file that describes it): when the second cannot be put in place,
// the first, which this call has just renamed into a destination that did not exist, is removed again, so that
// either both results are there or neither is. Rethrows the second's error.
void commit_together(StagedFile& first, StagedFile& second);

// Creates a new, uniquely named folder beside `near` ("." + name + ".bertscope-PID-N"), owned by the caller.
std::filesystem::path make_temporary_folder_beside(const std::filesystem::path& near);

// Writes `content` to `file` through a temporary file in the same folder, fsynced, then renamed over `file`.
// Throws Error naming the file on any failed write (a full disk included). Use only for files the caller owns.
void write_file_atomically(const std::filesystem::path& file, std::string_view content);
// fsync a file, or a folder's entries; throws Error on failure.
void sync_to_disk(const std::filesystem::path& path);
// sync_to_disk on every file under `folder`, then on the folder itself.
void sync_tree(const std::filesystem::path& folder);

}  // namespace bertscope
