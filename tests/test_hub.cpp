// Models from the Hugging Face Hub: the protocol's pure parts (ids, URLs, headers, the model-info JSON, which files),
// the environment as huggingface_hub reads it, and downloads from a stand-in Hub on 127.0.0.1 (tests/hub/
// fake_hub.py): the exact cache layout, predictions identical to the original folder's, revisions sharing blobs,
// shards, resume after a dropped connection, a cancel, offline use with the server stopped, a cache laid out by
// hand as huggingface_hub lays it out, every error's message, and never a half-written file in snapshots/.
#include <QCryptographicHash>
#include <QProcess>
#include <QtTest>
#include <fstream>
#include <set>

#include "core/error.h"
#include "hub/cache.h"
#include "hub/download.h"
#include "hub/fake_hub.h"
#include "hub/protocol.h"
#include "hub/settings.h"
#include "model/checkpoint.h"
#include "session.h"
#include "tasks/tasks.h"
#include "test_support.h"

using namespace bertscope;
using namespace bertscope::hub;
namespace fs = std::filesystem;

namespace {

std::string read_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// The etag the Hub gives a file: the sha256 of an LFS file (weights), the git blob id of the others.
std::string etag_of(const fs::path& file) {
  const std::string data = read_bytes(file);
  const std::string name = file.filename().string();
  if (name.ends_with(".safetensors") || name.ends_with(".bin"))
    return QCryptographicHash::hash(QByteArray::fromStdString(data), QCryptographicHash::Sha256).toHex().toStdString();
  const std::string blob = "blob " + std::to_string(data.size()) + '\0' + data;
  return QCryptographicHash::hash(QByteArray::fromStdString(blob), QCryptographicHash::Sha1).toHex().toStdString();
}

std::set<std::string> entries(const fs::path& folder) {
  std::set<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) names.insert(it->path().filename().string());
  return names;
}

// A set as one line, for comparisons whose failure shows what differs.
QString joined(const std::set<std::string>& names) {
  QStringList list;
  for (const auto& n : names) list << QString::fromStdString(n);
  return list.join(", ");
}

std::set<std::string> files_of(const fs::path& folder) {
  std::set<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(folder))
    if (!e.is_directory()) names.insert(e.path().lexically_relative(folder).generic_string());
  return names;
}

std::string predictions(const fs::path& folder) {
  Session s(folder, {BackendKind::Cpu});
  std::string out;
  for (const char* text : {"the [MASK] of the", "[MASK] and the [MASK]"}) {
    const FillMaskResult r = fill_mask(s.model(), s.tokenizer(), text, 5);
    for (const auto& mask : r.predictions)
      for (const auto& p : mask) out += std::to_string(p.token) + ":" + std::to_string(p.score) + " ";
  }
  return out;
}

template <class F>
HubError expect_hub_error(F body, HubError::Kind kind, std::initializer_list<const char*> phrases) {
  try {
    body();
  } catch (const HubError& e) {
    const QString message = e.what();
    if (e.kind() != kind) qWarning("unexpected kind %d: %s", static_cast<int>(e.kind()), e.what());
    for (const char* phrase : phrases)
      if (!message.contains(QString::fromUtf8(phrase))) qWarning("message lacks '%s': %s", phrase, e.what());
    [&] {
      QCOMPARE(static_cast<int>(e.kind()), static_cast<int>(kind));
      for (const char* phrase : phrases) QVERIFY2(message.contains(QString::fromUtf8(phrase)), qPrintable(message));
    }();
    return e;
  }
  [] { QFAIL("no HubError"); }();
  return HubError(kind, "");
}

}  // namespace

class TestHub : public QObject {
  Q_OBJECT
  QTemporaryDir tmp_;
  fs::path base_, bert_, sharded_, cache_;
  const std::string token_ = "hf_test_token_123";
  std::unique_ptr<test::FakeHub> hub_;

  fs::path dir(const std::string& name) const { return fs::path(tmp_.path().toStdString()) / name; }
  fs::path repo_folder(const fs::path& cache, const std::string& id) const { return cache / repo_folder_name(id); }

  FetchOptions options(const fs::path& cache, const std::string& token = "", bool offline = false) const {
    FetchOptions o;
    HubSettings s;
    s.endpoint = hub_->endpoint();
    s.cache = cache;
    s.token = token;
    s.offline = offline;
    o.settings = s;
    return o;
  }

  // The cache holds exactly huggingface_hub's layout for `id` at `commit`: blobs named by etag holding the original
  // bytes, refs/<revision> holding the commit, snapshots/<commit>/<file> relative links to ../../blobs/<etag>.
  void expect_layout(const fs::path& cache, const std::string& id, const std::string& revision, const std::string& commit,
                     const fs::path& original, const std::set<std::string>& files) {
    const fs::path repo = repo_folder(cache, id);
    QCOMPARE(joined(entries(repo)), QString("blobs, refs, snapshots"));
    QCOMPARE(read_bytes(repo / "refs" / revision), commit);  // no newline, as huggingface_hub writes it
    const fs::path snapshot = repo / "snapshots" / commit;
    QCOMPARE(joined(files_of(snapshot)), joined(files));
    for (const auto& f : files) {
      QVERIFY2(fs::is_symlink(snapshot / f), f.c_str());
      const std::string etag = etag_of(original / f);
      QCOMPARE(fs::read_symlink(snapshot / f).string(), "../../blobs/" + etag);
      QCOMPARE(read_bytes(repo / "blobs" / etag), read_bytes(original / f));
      QVERIFY(!fs::is_symlink(repo / "blobs" / etag));
    }
    for (const auto& blob : entries(repo / "blobs")) QVERIFY2(!blob.ends_with(".incomplete"), blob.c_str());
  }

  // The files bertscope fetches from a folder like bert_: all but those the stand-in adds.
  std::set<std::string> model_files(const fs::path& folder) const { return files_of(folder); }

  bool no_snapshot(const fs::path& cache, const std::string& id) const {
    return entries(repo_folder(cache, id) / "snapshots").empty();
  }

  int gets_of(const std::string& file) const {
    int n = 0;
    for (const auto& r : hub_->requests())
      if (r["method"] == "GET" && r["path"].get<std::string>().find(file) != std::string::npos) ++n;
    return n;
  }

 private slots:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    base_ = tmp_.path().toStdString();
    // Never the real Hub, nor the user's cache, token or offline setting.
    for (const char* v : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN_PATH",
                          "HUGGINGFACE_HUB_CACHE"})
      qunsetenv(v);
    qputenv("HF_HOME", QByteArray::fromStdString(dir("hf-home").string()));
    qputenv("HF_ENDPOINT", "http://127.0.0.1:9");  // until the stand-in runs: refused at once

    bert_ = dir("bert");
    write_random_model(bert_, test::tiny_model_spec(tmp_));
    // The same weights in two shards with their index, as save_pretrained writes a large model.
    sharded_ = dir("sharded");
    fs::create_directories(sharded_);
    const auto tensors = Checkpoint(bert_).read_all();
    std::vector<StWriteTensor> halves[2];
    nlohmann::json weight_map = nlohmann::json::object();
    int i = 0;
    for (const auto& [name, t] : tensors) {
      const int half = i++ % 2;
      halves[half].push_back({name, t.shape, t.values});
      weight_map[name] = "model-0000" + std::to_string(half + 1) + "-of-00002.safetensors";
    }
    for (int h = 0; h < 2; ++h)
      write_safetensors(sharded_ / ("model-0000" + std::to_string(h + 1) + "-of-00002.safetensors"), halves[h], StDType::F32);
    std::ofstream(sharded_ / "model.safetensors.index.json") << nlohmann::json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump();
    for (const auto& f : fs::directory_iterator(bert_))
      if (f.path().filename() != "model.safetensors") fs::copy_file(f.path(), sharded_ / f.path().filename());
    // An index naming a shard the repository lacks.
    const fs::path missing_shard = dir("missing-shard");
    fs::copy(sharded_, missing_shard);
    weight_map["extra.weight"] = "model-00003-of-00003.safetensors";
    std::ofstream(missing_shard / "model.safetensors.index.json") << nlohmann::json{{"weight_map", weight_map}}.dump();
    const fs::path no_weights = dir("no-weights"), no_config = dir("no-config");
    fs::create_directories(no_weights);
    fs::create_directories(no_config);
    fs::copy_file(bert_ / "config.json", no_weights / "config.json");
    fs::copy_file(bert_ / "vocab.txt", no_weights / "vocab.txt");
    fs::copy_file(bert_ / "vocab.txt", no_config / "vocab.txt");

    using test::FakeRepo;
    const std::vector<std::string> unwanted = {"tf_model.h5", "flax_model.msgpack", "onnx/model.onnx", "rust_model.ot",
                                               "pytorch_model.bin"};
    std::vector<FakeRepo> repos = {
        {"test/tiny-bert", bert_, test::fake_commit("tiny"), {{"v1.0", test::fake_commit("tiny-v1")}}, false, unwanted},
        {"tiny-plain", bert_, test::fake_commit("plain")},
        {"test/sharded", sharded_, test::fake_commit("sharded")},
        {"test/gated", bert_, test::fake_commit("gated"), {}, true},
        {"test/drop", bert_, test::fake_commit("drop")},
        {"test/drop-once", bert_, test::fake_commit("drop-once")},
        {"test/cancel", bert_, test::fake_commit("cancel")},
        {"test/corrupt", bert_, test::fake_commit("corrupt"), {}, false, {}, {"model.safetensors"}},
        {"test/huge", bert_, test::fake_commit("huge"), {}, false, {}, {}, {"model.safetensors"}},
        {"test/disk-full", bert_, test::fake_commit("disk-full")},
        {"test/no-weights", no_weights, test::fake_commit("no-weights"), {}, false, {"tf_model.h5", "onnx/model.onnx"}},
        {"test/no-config", no_config, test::fake_commit("no-config")},
        {"test/missing-shard", missing_shard, test::fake_commit("missing-shard")},
    };
    hub_ = std::make_unique<test::FakeHub>(dir("server"), repos, token_);
    if (!hub_->running()) QSKIP(qPrintable(hub_->why_not()));
    cache_ = dir("cache");
    qputenv("HF_ENDPOINT", QByteArray::fromStdString(hub_->endpoint()));
    qputenv("HF_HUB_CACHE", QByteArray::fromStdString(cache_.string()));
  }

  // ---- the protocol's pure parts ----

  void repoIds() {
    for (const char* ok : {"bert-base-uncased", "dslim/bert-base-NER", "distilroberta-base", "a", "Org_1/x.y-z", "123"})
      QVERIFY2(is_valid_repo_id(ok), ok);
    for (const char* bad : {"", "./model", "/abs/path", "a/b/c", "org--x/y", "a..b", "x.git", "-x", "x-", ".x", "a b",
                            "~/model", "models/", "/x", "a/"})
      QVERIFY2(!is_valid_repo_id(bad), bad);
    QCOMPARE(repo_folder_name("bert-base-uncased"), std::string("models--bert-base-uncased"));
    QCOMPARE(repo_folder_name("dslim/bert-base-NER"), std::string("models--dslim--bert-base-NER"));
    QCOMPARE(repo_id_from_folder("models--dslim--bert-base-NER").value_or(""), std::string("dslim/bert-base-NER"));
    QVERIFY(!repo_id_from_folder("datasets--x--y"));
    QVERIFY(!repo_id_from_folder(".locks"));
    QVERIFY(is_safe_revision("main") && is_safe_revision("refs/pr/1") && is_safe_revision("v1.0"));
    QVERIFY(!is_safe_revision("../x") && !is_safe_revision("/x") && !is_safe_revision("a//b") && !is_safe_revision(""));
    QVERIFY(is_safe_repo_file("onnx/model.onnx") && !is_safe_repo_file("../x") && !is_safe_repo_file("/etc/passwd") &&
            !is_safe_repo_file("a//b") && !is_safe_repo_file("a/./b"));
  }

  void urlsAndHeaders() {
    QCOMPARE(resolve_url("https://hf.co", "org/m", "refs/pr/1", "dir/a b.json"),
             std::string("https://hf.co/org/m/resolve/refs%2Fpr%2F1/dir/a%20b.json"));
    QCOMPARE(model_info_url("https://hf.co", "m", "main"), std::string("https://hf.co/api/models/m/revision/main"));
    QCOMPARE(url_origin("HTTP://Host:8/x?y"), std::string("http://host:8"));
    QCOMPARE(follow_location("http://a:1/x/resolve/main/f", "/y/resolve/main/f"), std::string("http://a:1/y/resolve/main/f"));
    QCOMPARE(follow_location("http://a:1/x/f", "https://cdn/z"), std::string("https://cdn/z"));
    QCOMPARE(follow_location("https://a/x/f?q", "//cdn/z"), std::string("https://cdn/z"));
    QCOMPARE(follow_location("http://a/x/f", "g"), std::string("http://a/x/g"));
    QCOMPARE(normalize_etag("W/\"abc\""), std::string("abc"));
    QCOMPARE(normalize_etag("\"abc\""), std::string("abc"));
    QCOMPARE(normalize_etag("abc"), std::string("abc"));
    QCOMPARE(parse_header_line("X-Linked-Etag:  \"e\"\r\n")->first, std::string("x-linked-etag"));
    QCOMPARE(parse_header_line("X-Linked-Etag:  \"e\"\r\n")->second, std::string("\"e\""));
    QVERIFY(!parse_header_line("HTTP/1.1 200 OK\r\n"));
    QCOMPARE(parse_status_line("HTTP/1.1 302 Found\r\n").value_or(0), 302L);
    QCOMPARE(parse_status_line("HTTP/2 200\r\n").value_or(0), 200L);

    // An LFS file: a 302 to the CDN carrying the linked etag and size, which win over the pointer's.
    const std::string sha(64, 'a'), commit(40, 'c');
    const FileMetadata lfs = parse_file_metadata(302, {{"x-repo-commit", commit}, {"x-linked-etag", "\"" + sha + "\""},
                                                       {"x-linked-size", "1234"}, {"etag", "W/\"pointer\""},
                                                       {"location", "https://cdn/x"}, {"content-length", "0"}},
                                                 "https://hf.co/m/resolve/main/model.safetensors");
    QCOMPARE(lfs.etag, sha);
    QVERIFY(lfs.lfs());
    QCOMPARE(*lfs.size, std::uint64_t{1234});
    QCOMPARE(lfs.location, std::string("https://cdn/x"));
    const FileMetadata small = parse_file_metadata(200, {{"x-repo-commit", commit}, {"etag", "\"0123abcd\""}, {"content-length", "99"}},
                                                   "https://hf.co/m/resolve/main/config.json");
    QCOMPARE(small.etag, std::string("0123abcd"));
    QVERIFY(!small.lfs());
    QCOMPARE(*small.size, std::uint64_t{99});
    QCOMPARE(small.location, std::string("https://hf.co/m/resolve/main/config.json"));
    // A server that is not the Hub (a captive portal, a proxy's page) is named as such.
    expect_hub_error([] { parse_file_metadata(200, {{"content-length", "5"}}, "http://portal/x"); }, HubError::Kind::BadAnswer,
                     {"X-Repo-Commit", "does not speak the Hugging Face Hub's protocol"});
    expect_hub_error([&] { parse_file_metadata(200, {{"x-repo-commit", commit}, {"etag", "\"../../x\""}, {"content-length", "5"}}, "u"); },
                     HubError::Kind::BadAnswer, {"malformed ETag"});
  }

  void modelInfo() {
    const RepoInfo info = parse_model_info(
        R"({"sha": "0123456789012345678901234567890123456789", "siblings": [{"rfilename": "config.json"}], "gated": "manual"})", "m");
    QCOMPARE(info.commit, std::string("0123456789012345678901234567890123456789"));
    QCOMPARE(info.files, std::vector<std::string>{"config.json"});
    QCOMPARE(info.gated, std::string("manual"));
    expect_hub_error([] { parse_model_info("<html>", "m"); }, HubError::Kind::BadAnswer, {"not valid JSON"});
    expect_hub_error([] { parse_model_info(R"({"siblings": []})", "m"); }, HubError::Kind::BadAnswer, {"no commit id"});
    expect_hub_error([] { parse_model_info(R"({"sha": "0123456789012345678901234567890123456789"})", "m"); },
                     HubError::Kind::BadAnswer, {"no file list"});
    QCOMPARE(parse_shard_index(R"({"weight_map": {"a": "s1", "b": "s2", "c": "s1"}})", "i"), (std::vector<std::string>{"s1", "s2"}));
    QVERIFY_THROWS_EXCEPTION(Error, parse_shard_index(R"({"weight_map": {"a": "../x"}})", "i"));
  }

  void whichFiles() {
    const std::vector<std::string> all = {"config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json",
                                          "special_tokens_map.json", "model.safetensors", "pytorch_model.bin",
                                          "tf_model.h5", "flax_model.msgpack", "rust_model.ot", "onnx/model.onnx",
                                          "README.md", ".gitattributes", "coreml/model.mlmodel"};
    FileChoice c = choose_files(all, "m");
    QCOMPARE(c.files, (std::vector<std::string>{"config.json", "tokenizer.json", "tokenizer_config.json",
                                                "special_tokens_map.json", "vocab.txt", "model.safetensors"}));
    QVERIFY(c.index.empty());
    // .bin only when that is all there is; shards through their index.
    c = choose_files({"config.json", "vocab.json", "merges.txt", "pytorch_model.bin", "tf_model.h5"}, "m");
    QCOMPARE(c.files, (std::vector<std::string>{"config.json", "vocab.json", "merges.txt", "pytorch_model.bin"}));
    c = choose_files({"config.json", "vocab.txt", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                      "pytorch_model.bin.index.json"}, "m");
    QCOMPARE(c.files, (std::vector<std::string>{"config.json", "vocab.txt"}));
    QCOMPARE(c.index, std::string("model.safetensors.index.json"));
    c = choose_files({"config.json", "vocab.txt", "pytorch_model.bin.index.json", "tf_model.h5"}, "m");
    QCOMPARE(c.index, std::string("pytorch_model.bin.index.json"));
    expect_hub_error([] { choose_files({"config.json", "tf_model.h5", "onnx/model.onnx"}, "m"); }, HubError::Kind::EntryNotFound,
                     {"m has no weights bertscope reads", "tf_model.h5", "onnx/model.onnx"});
    expect_hub_error([] { choose_files({"model.safetensors"}, "m"); }, HubError::Kind::EntryNotFound, {"has no config.json"});
  }

  void errorsInWords() {
    const RequestContext c{"https://hf.co", "org/m", "main", "config.json", false};
    auto message = [&](long status, const Headers& h, bool token = false) {
      RequestContext ctx = c;
      ctx.token_sent = token;
      return std::string(error_from_status(status, h, ctx).what());
    };
    QVERIFY(message(401, {{"x-error-code", "GatedRepo"}}).find("accept its licence on https://hf.co/org/m") != std::string::npos);
    QVERIFY(message(401, {{"x-error-code", "GatedRepo"}}).find("set HF_TOKEN") != std::string::npos);
    QVERIFY(message(403, {{"x-error-code", "GatedRepo"}}, true).find("check that the token") != std::string::npos);
    QCOMPARE(static_cast<int>(error_from_status(401, {}, c).kind()), static_cast<int>(HubError::Kind::RepoNotFound));
    QCOMPARE(static_cast<int>(error_from_status(401, {{"x-error-message", "Invalid credentials in Authorization header"}}, c).kind()),
             static_cast<int>(HubError::Kind::Unauthorized));
    QVERIFY(message(404, {{"x-error-code", "RepoNotFound"}}).find("has no model 'org/m'") != std::string::npos);
    QVERIFY(message(404, {{"x-error-code", "RevisionNotFound"}}).find("has no revision 'main'") != std::string::npos);
    QVERIFY(message(404, {{"x-error-code", "EntryNotFound"}}).find("has no file 'config.json'") != std::string::npos);
    QVERIFY(message(503, {}).find("HTTP 503") != std::string::npos);
    QVERIFY(message(500, {{"x-error-message", "boom\x1b[2J"}}).find("boom?[2J") != std::string::npos);  // no escapes
  }

  void environment() {
    const QByteArray saved_endpoint = qgetenv("HF_ENDPOINT"), saved_cache = qgetenv("HF_HUB_CACHE");
    qunsetenv("HF_HUB_CACHE");
    qputenv("HF_ENDPOINT", "https://mirror.example/");
    qputenv("HF_HOME", QByteArray::fromStdString(dir("home-a").string()));
    HubSettings s = hub_settings_from_environment();
    QCOMPARE(s.endpoint, std::string("https://mirror.example"));
    QCOMPARE(s.cache, dir("home-a") / "hub");
    QVERIFY(s.token.empty() && !s.offline);
    // The token: HF_TOKEN, else the token file ($HF_HOME/token, or HF_TOKEN_PATH), line breaks and blanks dropped.
    fs::create_directories(dir("home-a"));
    std::ofstream(dir("home-a") / "token") << "  hf_from_file\n";
    QCOMPARE(hub_settings_from_environment().token, std::string("hf_from_file"));
    std::ofstream(dir("other-token")) << "hf_other\r\n";
    qputenv("HF_TOKEN_PATH", QByteArray::fromStdString(dir("other-token").string()));
    QCOMPARE(hub_settings_from_environment().token, std::string("hf_other"));
    qputenv("HF_TOKEN", "hf_env");
    QCOMPARE(hub_settings_from_environment().token, std::string("hf_env"));
    qunsetenv("HF_TOKEN");
    qunsetenv("HF_TOKEN_PATH");
    // The cache: HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub.
    qputenv("HUGGINGFACE_HUB_CACHE", "/legacy");
    QCOMPARE(hub_settings_from_environment().cache, fs::path("/legacy"));
    qputenv("HF_HUB_CACHE", "/new");
    QCOMPARE(hub_settings_from_environment().cache, fs::path("/new"));
    qunsetenv("HF_HUB_CACHE");
    qunsetenv("HUGGINGFACE_HUB_CACHE");
    qunsetenv("HF_HOME");
    qputenv("XDG_CACHE_HOME", "/xdg");
    QCOMPARE(hub_settings_from_environment().cache, fs::path("/xdg/huggingface/hub"));
    qunsetenv("XDG_CACHE_HOME");
    // Offline: HF_HUB_OFFLINE, else TRANSFORMERS_OFFLINE, with huggingface_hub's true values.
    for (const char* yes : {"1", "ON", "yes", "True"}) {
      qputenv("HF_HUB_OFFLINE", yes);
      QVERIFY2(hub_settings_from_environment().offline, yes);
    }
    qputenv("HF_HUB_OFFLINE", "0");
    QVERIFY(!hub_settings_from_environment().offline);
    qunsetenv("HF_HUB_OFFLINE");
    qputenv("TRANSFORMERS_OFFLINE", "1");
    QVERIFY(hub_settings_from_environment().offline);
    qunsetenv("TRANSFORMERS_OFFLINE");
    qputenv("HF_HOME", QByteArray::fromStdString(dir("hf-home").string()));
    qputenv("HF_ENDPOINT", saved_endpoint);
    qputenv("HF_HUB_CACHE", saved_cache);
  }

  // ---- downloads from the stand-in ----

  void downloadLaysOutTheCacheExactly() {
    hub_->clear_requests();
    std::vector<DownloadProgress> progress;
    FetchOptions o = options(cache_, token_);
    o.on_progress = [&](const DownloadProgress& p) { progress.push_back(p); };
    const FetchResult r = download_model("test/tiny-bert", o);
    const std::string commit = test::fake_commit("tiny");
    QCOMPARE(r.commit, commit);
    QCOMPARE(r.folder, repo_folder(cache_, "test/tiny-bert") / "snapshots" / commit);
    QVERIFY(!r.from_cache);
    expect_layout(cache_, "test/tiny-bert", "main", commit, bert_, model_files(bert_));
    QVERIFY(fs::exists(cache_ / "CACHEDIR.TAG"));
    // Never TF, Flax, ONNX, Rust or .bin weights when safetensors are there: not even asked about.
    for (const char* unwanted : {"tf_model.h5", "flax_model.msgpack", "model.onnx", "rust_model.ot", "pytorch_model.bin"})
      for (const auto& req : hub_->requests()) QVERIFY2(req["path"].get<std::string>().find(unwanted) == std::string::npos, unwanted);
    // The protocol: model info, then HEAD on resolve/<commit>, then GET; the token to the Hub, never to the CDN.
    bool info = false, heads = false, lfs_from_cdn = false;
    for (const auto& req : hub_->requests()) {
      const std::string path = req["path"];
      if (req["port"] == "cdn") {
        QVERIFY2(req["authorization"].is_null(), "the token went to another host");
        lfs_from_cdn |= req["method"] == "GET";
      } else {
        QCOMPARE(req["authorization"].get<std::string>(), "Bearer " + token_);
        info |= path == "/api/models/test/tiny-bert/revision/main";
        heads |= req["method"] == "HEAD" && path.find("/test/tiny-bert/resolve/" + commit + "/") == 0;
      }
    }
    QVERIFY(info && heads && lfs_from_cdn);
    // Progress: bytes up to the total, every file counted.
    QVERIFY(!progress.empty());
    QCOMPARE(progress.back().done, progress.back().total);
    QCOMPARE(progress.back().files_done, progress.back().file_count);
    QCOMPARE(progress.back().file_count, static_cast<int>(model_files(bert_).size()));
  }

  void predictionsMatchTheOriginal() {
    const FetchResult r = download_model("test/tiny-bert", options(cache_));
    QVERIFY(r.from_cache);  // nothing new to fetch
    QCOMPARE(predictions(r.folder), predictions(bert_));
  }

  void resolveFindsTheCacheWithoutNetwork() {
    hub_->clear_requests();
    const fs::path folder = resolve_model_path("test/tiny-bert");  // HF_ENDPOINT and HF_HUB_CACHE from the environment
    QCOMPARE(folder, repo_folder(cache_, "test/tiny-bert") / "snapshots" / test::fake_commit("tiny"));
    QVERIFY(hub_->requests().empty());
    // A folder wins over an id; "default" stays the built-in model; a path that is no id is left for the loader.
    QCOMPARE(resolve_model_path(bert_.string()), bert_);
    QCOMPARE(resolve_model_path("./no/such/folder"), fs::path("./no/such/folder"));
    QVERIFY(hub_->requests().empty());
  }

  void revisionsShareBlobs() {
    const FetchResult r = download_model("test/tiny-bert", [&] {
      FetchOptions o = options(cache_);
      o.revision = "v1.0";
      return o;
    }());
    const std::string v1 = test::fake_commit("tiny-v1");
    QCOMPARE(r.commit, v1);
    QVERIFY(r.from_cache);  // same files: the blobs were there, only links were made
    expect_layout(cache_, "test/tiny-bert", "v1.0", v1, bert_, model_files(bert_));
    QCOMPARE(read_bytes(repo_folder(cache_, "test/tiny-bert") / "refs" / "main"), test::fake_commit("tiny"));
    QCOMPARE(entries(repo_folder(cache_, "test/tiny-bert") / "snapshots"), (std::set<std::string>{test::fake_commit("tiny"), v1}));
    // A commit id as the revision: that snapshot, no ref written for it.
    FetchOptions o = options(cache_);
    o.revision = v1;
    QCOMPARE(open_hub_model("test/tiny-bert", o).folder, r.folder);
    QCOMPARE(entries(repo_folder(cache_, "test/tiny-bert") / "refs"), (std::set<std::string>{"main", "v1.0"}));
  }

  void shardsWithTheirIndex() {
    const FetchResult r = download_model("test/sharded", options(cache_));
    expect_layout(cache_, "test/sharded", "main", test::fake_commit("sharded"), sharded_, model_files(sharded_));
    QCOMPARE(predictions(r.folder), predictions(bert_));
    expect_hub_error([&] { download_model("test/missing-shard", options(cache_)); }, HubError::Kind::EntryNotFound,
                     {"has no file 'model-00003-of-00003.safetensors'"});
    QVERIFY(no_snapshot(cache_, "test/missing-shard"));
  }

  void resumeAfterADroppedConnection() {
    // The connection drops after 3000 bytes of the weights; with no retry in this run, the error says what to do
    // and the part received stays beside its blob, never in snapshots/.
    hub_->drop("model.safetensors", 3000, 1);
    FetchOptions o = options(cache_);
    o.resume_attempts = 0;
    expect_hub_error([&] { download_model("test/drop", o); }, HubError::Kind::Dropped,
                     {"the connection dropped while downloading model.safetensors of test/drop", "run the same command again"});
    const std::string etag = etag_of(bert_ / "model.safetensors");
    const fs::path part = repo_folder(cache_, "test/drop") / "blobs" / (etag + ".incomplete");
    QCOMPARE(fs::file_size(part), std::uintmax_t{3000});
    QVERIFY(no_snapshot(cache_, "test/drop"));
    QVERIFY(!fs::exists(repo_folder(cache_, "test/drop") / "refs" / "main"));
    // Next time: a Range request from byte 3000, and the whole file checked against its sha256.
    hub_->clear_requests();
    const FetchResult r = download_model("test/drop", options(cache_));
    bool ranged = false;
    for (const auto& req : hub_->requests()) ranged |= req["range"] == "bytes=3000-";
    QVERIFY(ranged);
    expect_layout(cache_, "test/drop", "main", test::fake_commit("drop"), bert_, model_files(bert_));
    QCOMPARE(predictions(r.folder), predictions(bert_));

    // Within one run, a drop is resumed at once (as huggingface_hub's http_get retries), with a note.
    hub_->drop("model.safetensors", 5000, 2);
    std::vector<std::string> notes;
    FetchOptions again = options(cache_);
    again.on_note = [&](const std::string& n) { notes.push_back(n); };
    download_model("test/drop-once", again);
    expect_layout(cache_, "test/drop-once", "main", test::fake_commit("drop-once"), bert_, model_files(bert_));
    QCOMPARE(notes.size(), size_t{2});
    QVERIFY(QString::fromStdString(notes[0]).contains("resuming"));
  }

  void cancelLeavesNoSnapshot() {
    std::atomic<bool> cancel{false};
    FetchOptions o = options(cache_);
    o.cancel = &cancel;
    o.on_progress = [&](const DownloadProgress& p) { if (p.file == "model.safetensors") cancel = true; };
    expect_hub_error([&] { download_model("test/cancel", o); }, HubError::Kind::Cancelled, {"cancelled"});
    QVERIFY(no_snapshot(cache_, "test/cancel"));
    QVERIFY(!fs::exists(repo_folder(cache_, "test/cancel") / "refs" / "main"));
    cancel = false;  // downloading again resumes and completes
    o.on_progress = nullptr;
    download_model("test/cancel", o);
    expect_layout(cache_, "test/cancel", "main", test::fake_commit("cancel"), bert_, model_files(bert_));
  }

  void wrongBytesAreDiscarded() {
    expect_hub_error([&] { download_model("test/corrupt", options(cache_)); }, HubError::Kind::Integrity,
                     {"model.safetensors of test/corrupt", "do not match their sha256", "nothing was added to the cache"});
    const std::string etag = etag_of(bert_ / "model.safetensors");
    QVERIFY(!fs::exists(repo_folder(cache_, "test/corrupt") / "blobs" / etag));
    QVERIFY(!fs::exists(repo_folder(cache_, "test/corrupt") / "blobs" / (etag + ".incomplete")));
    QVERIFY(no_snapshot(cache_, "test/corrupt"));
  }

  void errorsFromTheHub() {
    // Gated: the licence and the token, in words; with the right token it downloads.
    expect_hub_error([&] { download_model("test/gated", options(cache_)); }, HubError::Kind::GatedRepo,
                     {"test/gated is a gated model", "accept its licence on " , "/test/gated", "set HF_TOKEN"});
    expect_hub_error([&] { download_model("test/gated", options(cache_, "hf_wrong")); }, HubError::Kind::GatedRepo,
                     {"check that the token in HF_TOKEN"});
    QVERIFY(no_snapshot(cache_, "test/gated"));
    download_model("test/gated", options(cache_, token_));
    expect_layout(cache_, "test/gated", "main", test::fake_commit("gated"), bert_, model_files(bert_));

    expect_hub_error([&] { download_model("test/nope", options(cache_)); }, HubError::Kind::RepoNotFound,
                     {"has no model 'test/nope'", "HF_TOKEN"});
    FetchOptions o = options(cache_);
    o.revision = "no-such-branch";
    expect_hub_error([&] { download_model("test/tiny-bert", o); }, HubError::Kind::RevisionNotFound,
                     {"test/tiny-bert has no revision 'no-such-branch'"});
    expect_hub_error([&] { download_model("test/no-config", options(cache_)); }, HubError::Kind::EntryNotFound,
                     {"test/no-config has no config.json"});
    expect_hub_error([&] { download_model("test/no-weights", options(cache_)); }, HubError::Kind::EntryNotFound,
                     {"has no weights bertscope reads", "tf_model.h5", "onnx/model.onnx"});
    expect_hub_error([&] { download_model("test/huge", options(cache_)); }, HubError::Kind::DiskFull,
                     {"not enough disk space for model.safetensors of test/huge", "1024 TiB"});
    QVERIFY(no_snapshot(cache_, "test/huge"));
    expect_hub_error([&] { download_model("not/a/valid/id", options(cache_)); }, HubError::Kind::RepoNotFound,
                     {"is not a Hugging Face model id"});
    // Through resolve_model_path the message says the argument is no folder either.
    expect_hub_error([&] { resolve_model_path("test/nope"); }, HubError::Kind::RepoNotFound,
                     {"no folder 'test/nope' here; as a Hugging Face model id:", "has no model 'test/nope'"});
  }

  void offline() {
    // HF_HUB_OFFLINE: the cache only. A cached model opens; one not there says so, and nothing is asked.
    hub_->clear_requests();
    QCOMPARE(download_model("test/tiny-bert", options(cache_, "", true)).folder,
             repo_folder(cache_, "test/tiny-bert") / "snapshots" / test::fake_commit("tiny"));
    expect_hub_error([&] { download_model("test/never-downloaded", options(cache_, "", true)); }, HubError::Kind::Offline,
                     {"offline mode is on", "test/never-downloaded (revision main) is not in the Hugging Face cache"});
    // A partly cached snapshot (a model huggingface_hub fetched config.json of) is named as such.
    const fs::path partial = repo_folder(cache_, "test/partial");
    fs::create_directories(partial / "snapshots" / test::fake_commit("p"));
    fs::create_directories(partial / "refs");
    std::ofstream(partial / "refs" / "main") << test::fake_commit("p");
    fs::copy_file(bert_ / "config.json", partial / "snapshots" / test::fake_commit("p") / "config.json");
    expect_hub_error([&] { download_model("test/partial", options(cache_, "", true)); }, HubError::Kind::Offline,
                     {"only partly in the Hugging Face cache", "lacks weights"});
    QVERIFY(hub_->requests().empty());
  }

  void handLaidCacheOpensOffline() {
    // A cache as huggingface_hub writes it (written here by hand): blobs by etag, a ref, relative links.
    const fs::path cache = dir("hand-cache"), repo = cache / "models--someone--tiny-bert";
    const std::string commit = test::fake_commit("hand");
    fs::create_directories(repo / "blobs");
    fs::create_directories(repo / "refs");
    fs::create_directories(repo / "snapshots" / commit);
    for (const auto& e : fs::directory_iterator(bert_)) {
      const std::string etag = etag_of(e.path());
      fs::copy_file(e.path(), repo / "blobs" / etag);
      fs::create_symlink("../../blobs/" + etag, repo / "snapshots" / commit / e.path().filename());
    }
    std::ofstream(repo / "refs" / "main") << commit;
    const QByteArray saved = qgetenv("HF_HUB_CACHE");
    qputenv("HF_HUB_CACHE", QByteArray::fromStdString(cache.string()));
    qputenv("HF_HUB_OFFLINE", "1");
    const fs::path folder = resolve_model_path("someone/tiny-bert");
    qunsetenv("HF_HUB_OFFLINE");
    qputenv("HF_HUB_CACHE", saved);
    QCOMPARE(folder, repo / "snapshots" / commit);
    QCOMPARE(predictions(folder), predictions(bert_));
    const auto listed = HubCache(cache).list();
    QCOMPARE(listed.size(), size_t{1});
    QCOMPARE(listed[0].id, std::string("someone/tiny-bert"));
    QCOMPARE(listed[0].revisions[0].refs, std::vector<std::string>{"main"});
    QVERIFY(listed[0].revisions[0].missing.empty());
  }

  void serverStopped() {
    // A second stand-in, stopped after one download: the cache answers (with a note); an uncached model says
    // the Hub cannot be reached.
    test::FakeHub other(dir("server-2"), {{"test/soon-gone", bert_, test::fake_commit("gone")}}, "");
    QVERIFY(other.running());
    const fs::path cache = dir("cache-2");
    FetchOptions o = options(cache);
    o.settings->endpoint = other.endpoint();
    download_model("test/soon-gone", o);
    other.stop();
    std::vector<std::string> notes;
    o.on_note = [&](const std::string& n) { notes.push_back(n); };
    const FetchResult r = download_model("test/soon-gone", o);
    QVERIFY(r.from_cache);
    QCOMPARE(notes.size(), size_t{1});
    QVERIFY2(QString::fromStdString(notes[0]).contains("cannot reach the Hugging Face Hub at " + QString::fromStdString(other.endpoint())),
             notes[0].c_str());
    QVERIFY(QString::fromStdString(notes[0]).contains("using the cached snapshot of test/soon-gone"));
    QCOMPARE(predictions(r.folder), predictions(bert_));
    expect_hub_error([&] { download_model("test/elsewhere", o); }, HubError::Kind::Unreachable,
                     {"cannot reach the Hugging Face Hub", "test/elsewhere (revision main) is not in the Hugging Face cache"});
  }

  void cacheListAndRemove() {
    HubCache cache(cache_);
    const auto m = cache.find("test/tiny-bert");
    QVERIFY(m.has_value());
    QCOMPARE(m->revisions.size(), size_t{2});
    std::uint64_t bytes = 0;
    for (const auto& f : model_files(bert_)) bytes += fs::file_size(bert_ / f);
    QCOMPARE(m->bytes, bytes);  // the two revisions share their blobs
    // A repository folder with a file of someone's own is never removed.
    std::ofstream(repo_folder(cache_, "test/gated") / "my-notes.txt") << "mine";
    QVERIFY_THROWS_EXCEPTION(Error, cache.remove("test/gated"));
    QVERIFY(fs::exists(repo_folder(cache_, "test/gated") / "my-notes.txt"));
    const std::uint64_t sharded_bytes = cache.find("test/sharded")->bytes;
    QCOMPARE(cache.remove("test/sharded"), sharded_bytes);
    QVERIFY(!fs::exists(repo_folder(cache_, "test/sharded")));
    QVERIFY(!fs::exists(cache_ / ".locks" / "models--test--sharded"));
    QVERIFY(fs::exists(repo_folder(cache_, "test/tiny-bert")));
  }

  // ---- the command line ----

  void commandLine() {
    auto cli = [&](const QStringList& args, const QProcessEnvironment& extra = {}) {
      QProcess p;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      for (const auto& k : extra.keys()) env.insert(k, extra.value(k));
      p.setProcessEnvironment(env);
      p.start(BERTSCOPE_CLI, args);
      p.waitForFinished(120000);
      return std::tuple{p.exitCode(), QString::fromUtf8(p.readAllStandardOutput()), QString::fromUtf8(p.readAllStandardError())};
    };
    const QString snapshot = QString::fromStdString((repo_folder(cache_, "tiny-plain") / "snapshots" / test::fake_commit("plain")).string());
    auto [code, out, err] = cli({"download", "tiny-plain"});
    QVERIFY2(code == 0, qPrintable(err));
    QCOMPARE(out.trimmed(), snapshot);
    QVERIFY2(err.contains("model.safetensors (file ") && err.contains("/s"), qPrintable(err));  // progress on stderr
    std::tie(code, out, err) = cli({"info", "tiny-plain", "--backend", "cpu"});
    QVERIFY2(code == 0, qPrintable(err));
    QCOMPARE(QString::fromStdString(nlohmann::json::parse(out.toStdString())["folder"]), snapshot);
    std::tie(code, out, err) = cli({"fill-mask", "test/tiny-bert", "--revision", "v1.0", "--backend", "cpu", "--text", "the [MASK] of the"});
    QVERIFY2(code == 0, qPrintable(err));
    // pretrain --init-from takes a Hub id (and --revision); resuming the run never goes to the network.
    const fs::path corpus = dir("corpus.txt"), run = dir("pretrain-run");
    {
      std::ofstream text(corpus);
      for (int i = 0; i < 40; ++i) text << "the cat sat on the mat and the dog sat on the log of the tree\n";
    }
    const QStringList pretrain = {"pretrain", QString::fromStdString(run.string()), "--corpus", QString::fromStdString(corpus.string()),
                                  "--seq-len", "16", "--batch-size", "2", "--checkpoint-every", "1", "--eval-every", "100",
                                  "--backend", "cpu", "--init-from", "test/tiny-bert", "--revision", "v1.0"};
    std::tie(code, out, err) = cli(pretrain + QStringList{"--steps", "1"});
    QVERIFY2(code == 0, qPrintable(err));
    const auto run_options = nlohmann::json::parse(std::ifstream(run / "options.json"));
    QCOMPARE(QString::fromStdString(run_options["init_from"]),
             QString::fromStdString((repo_folder(cache_, "test/tiny-bert") / "snapshots" / test::fake_commit("tiny-v1")).string()));
    QProcessEnvironment no_network;
    no_network.insert("HF_ENDPOINT", "http://127.0.0.1:9");
    std::tie(code, out, err) = cli(pretrain + QStringList{"--steps", "2"}, no_network);
    QVERIFY2(code == 0 && nlohmann::json::parse(out.toStdString())["step"] == 2, qPrintable(err));
    std::tie(code, out, err) = cli({"cache", "list"});
    QVERIFY2(code == 0, qPrintable(err));
    const auto listed = nlohmann::json::parse(out.toStdString());
    QCOMPARE(QString::fromStdString(listed["cache"]), QString::fromStdString(cache_.string()));
    bool found = false;
    for (const auto& m : listed["models"]) found |= m["id"] == "tiny-plain" && m["bytes"].get<std::uint64_t>() > 0;
    QVERIFY(found);
    std::tie(code, out, err) = cli({"cache", "rm", "tiny-plain"});
    QVERIFY2(code == 0, qPrintable(err));
    QVERIFY(!fs::exists(repo_folder(cache_, "tiny-plain")));
    // Errors in words, exit status 1.
    std::tie(code, out, err) = cli({"info", "test/gated-nope"});
    QCOMPARE(code, 1);
    QVERIFY2(err.contains("no folder 'test/gated-nope' here; as a Hugging Face model id:"), qPrintable(err));
    // The disk fills up midway: said in words, the part kept for next time, nothing in snapshots/.
    QProcessEnvironment full;
    full.insert("BERTSCOPE_TEST_DISK_FULL_AFTER", "4000");
    std::tie(code, out, err) = cli({"download", "test/disk-full"}, full);
    QCOMPARE(code, 1);
    QVERIFY2(err.contains("the disk is full") && err.contains("free some space and run again"), qPrintable(err));
    QVERIFY(no_snapshot(cache_, "test/disk-full"));
    std::tie(code, out, err) = cli({"download", "test/disk-full"});
    QVERIFY2(code == 0, qPrintable(err));
    expect_layout(cache_, "test/disk-full", "main", test::fake_commit("disk-full"), bert_, model_files(bert_));
  }
};

QTEST_GUILESS_MAIN(TestHub)
#include "test_hub.moc"
