#include "hub/download.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>

#include "core/read_file.h"
#include "core/safe_files.h"
#include "hub/cache.h"
#include "hub/protocol.h"

namespace fs = std::filesystem;

namespace bertscope::hub {

namespace {

using Clock = std::chrono::steady_clock;
using Kind = HubError::Kind;

// sha256 through OpenSSL's libcrypto.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { reset(); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void reset() {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw Error("OpenSSL's sha256 is unavailable");
  }
  void update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx_, digest, &length);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) out += {digits[digest[i] >> 4], digits[digest[i] & 15]};
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

// Closes a file descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() { if (fd >= 0) ::close(fd); }
};

// huggingface_hub's lock beside the cache (.locks/models--X/<etag>.lock, flock), so bertscope and Python never
// write one blob at once. Waits for another holder, cancellably.
class BlobLock {
 public:
  BlobLock(const fs::path& file, const std::atomic<bool>* cancel, const std::function<void(const std::string&)>& note) {
    fs::create_directories(file.parent_path());
    fd_.fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_.fd < 0) throw Error("cannot open the lock file " + file.string() + ": " + std::strerror(errno));
    bool told = false;
    while (::flock(fd_.fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) throw Error("cannot lock " + file.string() + ": " + std::strerror(errno));
      if (cancel && cancel->load()) throw HubError(Kind::Cancelled, "the download was cancelled");
      if (!told && note) note("another program is downloading the same file (" + file.string() + "); waiting for it");
      told = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

 private:
  Fd fd_;  // closing it releases the lock
};

// BERTSCOPE_TEST_DISK_FULL_AFTER=N: writes into the cache fail with ENOSPC once N bytes have been written by this
// process, so a test can fill the disk midway on demand (see core/test_hooks.h for the other hooks).
bool test_disk_full(size_t bytes) {
  static const long long limit = [] {
    const char* v = std::getenv("BERTSCOPE_TEST_DISK_FULL_AFTER");
    return v && *v ? std::atoll(v) : -1LL;
  }();
  static std::atomic<long long> written{0};
  if (limit < 0) return false;
  return (written += static_cast<long long>(bytes)) > limit;
}

bool write_all(int fd, std::string_view data) {
  if (test_disk_full(data.size())) {
    errno = ENOSPC;
    return false;
  }
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

std::string mb(std::uint64_t bytes) { return describe_bytes(bytes); }

// Where a model stands in the cache, for a message: "is not in the Hugging Face cache (DIR)", or what its snapshot
// lacks when only part of it is there.
std::string cache_state(const HubCache& cache, const std::string& id, const std::string& revision) {
  const auto commit = cache.commit_of(id, revision);
  const std::string where = " (" + cache.root().string() + ")";
  std::error_code ec;
  if (commit && fs::is_directory(cache.snapshot_folder(id, *commit), ec)) {
    std::string lacks;
    for (const auto& m : missing_model_files(cache.snapshot_folder(id, *commit))) lacks += (lacks.empty() ? "" : ", ") + m;
    return "is only partly in the Hugging Face cache" + where + ": its snapshot lacks " + lacks;
  }
  return "is not in the Hugging Face cache" + where;
}

// Bytes over a whole download, the speed over the last few seconds, and the callback at most ~10 times a second.
class ProgressMeter {
 public:
  explicit ProgressMeter(const FetchOptions& options) : options_(options) {}
  void start(std::uint64_t total, std::uint64_t already, int files) {
    p_.total = total;
    p_.done = already;
    p_.file_count = files;
    samples_.clear();
    first_ = {Clock::now(), p_.done};
    samples_.push_back(first_);
  }
  void file(const std::string& name) {
    p_.file = name;
    report(true);
  }
  void add(std::int64_t bytes) {
    p_.done = static_cast<std::uint64_t>(std::max<std::int64_t>(0, static_cast<std::int64_t>(p_.done) + bytes));
    report(false);
  }
  void file_done() {
    ++p_.files_done;
    report(true);
  }

 private:
  struct Sample {
    Clock::time_point at;
    std::uint64_t done;
  };
  void report(bool force) {
    const auto now = Clock::now();
    if (!force && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    samples_.push_back({now, p_.done});
    while (samples_.size() > 2 && now - samples_.front().at > std::chrono::seconds(3)) samples_.pop_front();
    // The speed over the last few seconds; over the whole download while it is younger than that window.
    const Sample& from = now - samples_.front().at > std::chrono::milliseconds(200) ? samples_.front() : first_;
    const double seconds = std::chrono::duration<double>(now - from.at).count();
    if (seconds > 0 && p_.done >= from.done) p_.bytes_per_second = static_cast<double>(p_.done - from.done) / seconds;
    p_.eta_seconds = p_.bytes_per_second > 0 ? static_cast<double>(p_.total - std::min(p_.total, p_.done)) / p_.bytes_per_second : -1;
    if (options_.on_progress) options_.on_progress(p_);
  }

  const FetchOptions& options_;
  DownloadProgress p_;
  std::deque<Sample> samples_;
  Sample first_{};
  Clock::time_point last_{};
};

// A file of the repository this download needs, and what the Hub said about it.
struct Planned {
  std::string name;
  FileMetadata meta;
  bool linked = false;  // already in the snapshot: nothing to do
};

class Fetcher {
 public:
  Fetcher(const std::string& id, const FetchOptions& options, const HubSettings& settings)
      : id_(id), options_(options), settings_(settings), cache_(settings.cache), meter_(options) {}

  FetchResult run() {
    const RepoInfo info = model_info();
    if (info.commit.empty()) return *fallback_;
    commit_ = info.commit;
    const FileChoice choice = choose_files(info.files, id_);
    std::vector<Planned> files;
    for (const auto& name : choice.files) files.push_back(plan(name));
    if (!choice.index.empty()) {  // the index first: it names the shards
      Planned index = plan(choice.index);
      meter_.start(index.linked ? 0 : *index.meta.size, 0, 1);
      if (!index.linked) fetch_blob(index);
      const fs::path where = index.linked ? cache_.snapshot_folder(id_, commit_) / index.name : cache_.blob(id_, index.meta.etag);
      for (const auto& shard : parse_shard_index(read_file_bounded(where, 64u << 20, "a shard index"), id_ + "/" + index.name))
        files.push_back(plan(shard));
      files.push_back(std::move(index));
    }
    // What is left to fetch, and how much of it a previous run already received.
    std::uint64_t total = 0, already = 0;
    int count = 0;
    for (const auto& f : files) {
      if (f.linked || fs::exists(cache_.blob(id_, f.meta.etag))) continue;
      total += *f.meta.size;
      std::error_code ec;
      const auto part = fs::file_size(incomplete(f), ec);
      if (!ec && part <= *f.meta.size) already += part;
      ++count;
    }
    meter_.start(total, already, count);
    bool fetched = false;
    for (const auto& f : files) {
      if (f.linked || fs::exists(cache_.blob(id_, f.meta.etag))) continue;
      fetch_blob(f);
      meter_.file_done();
      fetched = true;
    }
    // Every blob is in: now, and only now, the snapshot's links and the ref.
    for (const auto& f : files)
      if (!f.linked) cache_.link(id_, commit_, f.name, f.meta.etag);
    cache_.write_ref(id_, options_.revision, commit_);
    cache_.tag_cache_folder();
    return {cache_.snapshot_folder(id_, commit_), commit_, !fetched};
  }

 private:
  // The headers for a request to `url`: the token only for the Hub's own host (never a CDN a redirect leads to).
  std::vector<std::string> headers_for(const std::string& url) const {
    std::vector<std::string> h = {"Accept-Encoding: identity"};
    if (!settings_.token.empty() && url_origin(url) == url_origin(settings_.endpoint))
      h.push_back("Authorization: Bearer " + settings_.token);
    return h;
  }

  // Sends `request`, following redirects: all of them (`all`), or only relative ones (a renamed repository; the
  // answer of a redirect to another host is what a HEAD wants to read).
  HttpResponse send(HttpRequest request, bool all, const std::vector<std::string>& extra = {}) {
    request.cancel = options_.cancel;
    for (int hop = 0;; ++hop) {
      request.headers = headers_for(request.url);
      request.headers.insert(request.headers.end(), extra.begin(), extra.end());
      HttpResponse r = http().send(request);
      const auto location = r.headers.find("location");
      if (r.status < 300 || r.status >= 400 || location == r.headers.end()) return r;
      const bool relative = location->second.find("://") == std::string::npos && location->second.rfind("//", 0) != 0;
      if (!all && !relative) return r;
      if (hop == 10) throw HubError(Kind::BadAnswer, request.url + ": more than 10 redirects");
      request.url = follow_location(request.url, location->second);
    }
  }

  Http& http() {
    if (!http_) http_ = options_.make_http ? options_.make_http() : make_curl_http();
    return *http_;
  }

  RequestContext context(const std::string& file = "") const {
    return {settings_.endpoint, id_, options_.revision, file, !settings_.token.empty()};
  }

  // GET the model's description; on failure, the cache answers (fallback_ set, an empty RepoInfo returned).
  RepoInfo model_info() {
    const std::string url = model_info_url(settings_.endpoint, id_, options_.revision);
    HttpRequest request;
    request.url = url;
    HttpResponse r;
    try {
      r = send(request, true);
    } catch (const TransportError& e) {
      if (e.kind() == TransportError::Kind::Cancelled) throw HubError(Kind::Cancelled, "the download of " + id_ + " was cancelled");
      const std::string why = "cannot reach the Hugging Face Hub at " + settings_.endpoint + " (" + e.what() + ")";
      return use_cache(why, HubError(Kind::Unreachable, why + ", and " + id_ + " (revision " + options_.revision + ") " +
                                                            cache_state(cache_, id_, options_.revision) + "; check the network or HF_ENDPOINT"));
    }
    if (r.status == 200) return parse_model_info(r.body, id_);
    HubError error = error_from_status(r.status, r.headers, context());
    if (error.kind() == Kind::RevisionNotFound) throw error;  // the Hub knows the model: the cache cannot help
    return use_cache(error.what(), error);
  }

  RepoInfo use_cache(const std::string& why, const HubError& otherwise) {
    const auto folder = cache_.complete_snapshot(id_, options_.revision);
    if (!folder) throw otherwise;
    if (options_.on_note)
      options_.on_note(why + "; using the cached snapshot of " + id_ + " (revision " + options_.revision + ", commit " +
                       folder->filename().string() + ")");
    fallback_ = FetchResult{*folder, folder->filename().string(), true};
    return {};
  }

  // HEAD on resolve/ for a file not yet in the snapshot.
  Planned plan(const std::string& name) {
    Planned p;
    p.name = name;
    if (!is_safe_repo_file(name)) throw HubError(Kind::BadAnswer, id_ + " lists a file named '" + name + "', which bertscope will not lay out");
    std::error_code ec;
    if (fs::exists(cache_.snapshot_folder(id_, commit_) / name, ec)) {
      p.linked = true;
      return p;
    }
    HttpRequest request;
    request.method = "HEAD";
    request.url = resolve_url(settings_.endpoint, id_, commit_, name);
    HttpResponse r;
    try {
      r = send(request, false);
    } catch (const TransportError& e) {
      if (e.kind() == TransportError::Kind::Cancelled) throw HubError(Kind::Cancelled, "the download of " + id_ + " was cancelled");
      throw HubError(Kind::Dropped, "the connection to the Hub was lost while asking about " + name + " of " + id_ + " (" +
                                        e.what() + "); run again to go on");
    }
    if (r.status >= 400 || r.status < 200) throw error_from_status(r.status, r.headers, context(name));
    p.meta = parse_file_metadata(r.status, r.headers, request.url);
    return p;
  }

  fs::path incomplete(const Planned& f) const { return cache_.blob(id_, f.meta.etag).string() + ".incomplete"; }

  void check_disk_space(const fs::path& folder, std::uint64_t needed, const std::string& name) const {
    struct statvfs s {};
    if (::statvfs(folder.c_str(), &s) != 0) return;  // unknown: the writes will tell
    const std::uint64_t free = static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
    if (free < needed)
      throw HubError(Kind::DiskFull, "not enough disk space for " + name + " of " + id_ + ": it needs " + mb(needed) +
                                         " more, and " + folder.string() + " has " + mb(free) + " free");
  }

  // Brings blobs/<etag> in: into .incomplete (resumed where a previous run stopped), checked, then renamed.
  void fetch_blob(const Planned& f) {
    const fs::path blob = cache_.blob(id_, f.meta.etag), part = incomplete(f);
    const std::uint64_t size = *f.meta.size;
    fs::create_directories(blob.parent_path());
    BlobLock lock(cache_.lock_file(id_, f.meta.etag), options_.cancel, options_.on_note);
    if (fs::exists(blob)) return;  // another program brought it in while we waited
    Fd fd;
    fd.fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd.fd < 0) throw Error("cannot write " + part.string() + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd.fd, &st);
    std::uint64_t have = static_cast<std::uint64_t>(st.st_size);
    if (have > size) {  // not a prefix of this file (the meter never counted it): start over
      if (::ftruncate(fd.fd, 0) != 0) throw Error("cannot truncate " + part.string() + ": " + std::strerror(errno));
      have = 0;
    }
    Sha256 sha;
    if (f.meta.lfs() && have > 0) hash_prefix(fd.fd, have, sha, part);
    check_disk_space(blob.parent_path(), size - have, f.name);
    meter_.file(f.name);

    int resumes_left = options_.resume_attempts;
    std::string url = f.meta.location;
    while (have < size) {
      int write_errno = 0;
      std::string refused;  // why on_start stopped the transfer
      const std::uint64_t at_start = have;
      HttpRequest request;
      request.url = url;
      request.on_start = [&](long status, const Headers& headers) {
        if (status == 206) {
          const auto range = headers.find("content-range");
          const std::string expect = "bytes " + std::to_string(have) + "-";
          if (range == headers.end() || range->second.rfind(expect, 0) != 0) {
            refused = "answered a Range request for bytes " + std::to_string(have) + "- with " +
                      (range == headers.end() ? std::string("no Content-Range") : "Content-Range " + range->second.substr(0, 60));
            return false;
          }
        } else if (have > 0) {  // 200: the server ignored the Range and sends it all again
          if (::ftruncate(fd.fd, 0) != 0) {
            write_errno = errno;
            return false;
          }
          meter_.add(-static_cast<std::int64_t>(have));
          have = 0;
          sha.reset();
        }
        return true;
      };
      request.on_body = [&](std::string_view piece) {
        if (have + piece.size() > size) {
          refused = "sent more than the " + std::to_string(size) + " bytes it announced";
          return false;
        }
        if (!write_all(fd.fd, piece)) {
          write_errno = errno ? errno : EIO;
          return false;
        }
        if (f.meta.lfs()) sha.update(piece);
        have += piece.size();
        meter_.add(static_cast<std::int64_t>(piece.size()));
        return true;
      };
      HttpResponse r;
      std::string dropped;
      try {
        r = send(request, true, have > 0 ? std::vector<std::string>{"Range: bytes=" + std::to_string(have) + "-"}
                                         : std::vector<std::string>{});
      } catch (const TransportError& e) {
        if (e.kind() == TransportError::Kind::Cancelled)
          throw HubError(Kind::Cancelled, "the download of " + id_ + " was cancelled (" + mb(have) + " of " + f.name +
                                              " kept; downloading again resumes it)");
        if (write_errno) write_failed(write_errno, part, f.name, have, size);
        if (!refused.empty()) {
          ::ftruncate(fd.fd, 0);  // bytes from a server that breaks the protocol are not worth keeping
          throw HubError(Kind::Integrity, f.meta.location + " " + refused + "; the part received was discarded");
        }
        dropped = e.what();
      }
      if (dropped.empty() && r.status == 416 && have > 0) {  // the partial file is no prefix the server knows
        ::ftruncate(fd.fd, 0);
        meter_.add(-static_cast<std::int64_t>(have));
        have = 0;
        sha.reset();
        continue;
      }
      if (dropped.empty() && (r.status < 200 || r.status >= 300)) throw error_from_status(r.status, r.headers, context(f.name));
      if (dropped.empty() && have < size) dropped = "the answer ended early";
      if (dropped.empty()) break;
      // The connection broke midway: resume at once while each try brings bytes, then leave it for next time.
      if (have == at_start || resumes_left-- <= 0)
        throw HubError(Kind::Dropped, "the connection dropped while downloading " + f.name + " of " + id_ + " (" + mb(have) +
                                          " of " + mb(size) + " received; " + dropped + "): run the same command again "
                                          "to resume from there (the part is kept in " + part.string() + ")");
      if (options_.on_note) options_.on_note("the connection dropped after " + mb(have) + " of " + f.name + " (" + dropped + "); resuming");
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (::fsync(fd.fd) != 0) write_failed(errno, part, f.name, have, size);
    if (f.meta.lfs()) {
      const std::string got = sha.hex();
      if (got != f.meta.etag) {
        ::unlink(part.c_str());
        throw HubError(Kind::Integrity, f.name + " of " + id_ + ": the bytes received do not match their sha256 (the "
                                            "Hub says " + f.meta.etag + ", they hash to " + got + "); the download was "
                                            "discarded and nothing was added to the cache");
      }
    }
    std::error_code ec;
    fs::rename(part, blob, ec);
    if (ec) throw Error("cannot move " + part.string() + " into place: " + ec.message());
    sync_to_disk(blob.parent_path());
  }

  [[noreturn]] void write_failed(int err, const fs::path& part, const std::string& name, std::uint64_t have, std::uint64_t size) {
    if (err == ENOSPC || err == EDQUOT || err == EFBIG)
      throw HubError(Kind::DiskFull, "the disk is full: " + name + " of " + id_ + " stopped at " + mb(have) + " of " +
                                         mb(size) + " (" + std::strerror(err) + " writing " + part.string() +
                                         "); free some space and run again: the download resumes from there");
    throw Error("cannot write " + part.string() + ": " + std::strerror(err));
  }

  // A resumed LFS file is checked whole: the bytes a previous run received go into the hash first.
  static void hash_prefix(int fd, std::uint64_t length, Sha256& sha, const fs::path& part) {
    std::string buffer(1 << 20, '\0');
    for (std::uint64_t at = 0; at < length;) {
      const ssize_t n = ::pread(fd, buffer.data(), std::min<std::uint64_t>(buffer.size(), length - at), static_cast<off_t>(at));
      if (n <= 0) throw Error("cannot read " + part.string() + ": " + std::strerror(n < 0 ? errno : EIO));
      sha.update(std::string_view(buffer.data(), static_cast<size_t>(n)));
      at += static_cast<std::uint64_t>(n);
    }
  }

  std::string id_;
  const FetchOptions& options_;
  HubSettings settings_;
  HubCache cache_;
  ProgressMeter meter_;
  std::unique_ptr<Http> http_;
  std::string commit_;
  std::optional<FetchResult> fallback_;
};

HubSettings settings_of(const FetchOptions& options) {
  return options.settings ? *options.settings : hub_settings_from_environment();
}

void check_arguments(const std::string& repo_id, const FetchOptions& options) {
  if (!is_valid_repo_id(repo_id))
    throw HubError(Kind::RepoNotFound, "'" + repo_id + "' is not a Hugging Face model id (name or org/name: letters, "
                                       "digits, '-', '_' and '.')");
  if (!is_safe_revision(options.revision))
    throw HubError(Kind::RevisionNotFound, "'" + options.revision + "' is not a revision name (a branch, tag or commit id)");
}

HubError offline_error(const std::string& repo_id, const FetchOptions& options, const HubCache& cache) {
  return HubError(Kind::Offline, "offline mode is on (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE), and " + repo_id +
                                     " (revision " + options.revision + ") " + cache_state(cache, repo_id, options.revision) +
                                     ": unset it to download the model");
}

}  // namespace

FetchResult download_model(const std::string& repo_id, const FetchOptions& options) {
  check_arguments(repo_id, options);
  const HubSettings settings = settings_of(options);
  if (settings.offline) {
    const HubCache cache(settings.cache);
    if (const auto folder = cache.complete_snapshot(repo_id, options.revision))
      return {*folder, folder->filename().string(), true};
    throw offline_error(repo_id, options, cache);
  }
  return Fetcher(repo_id, options, settings).run();
}

FetchResult open_hub_model(const std::string& repo_id, const FetchOptions& options) {
  check_arguments(repo_id, options);
  const HubSettings settings = settings_of(options);
  const HubCache cache(settings.cache);
  if (const auto folder = cache.complete_snapshot(repo_id, options.revision))
    return {*folder, folder->filename().string(), true};
  FetchOptions with_settings = options;
  with_settings.settings = settings;
  return download_model(repo_id, with_settings);
}

}  // namespace bertscope::hub
