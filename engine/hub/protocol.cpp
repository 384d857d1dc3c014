#include "hub/protocol.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/json_io.h"

namespace bertscope::hub {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return is_word_char(c) || c == '-' || c == '.'; }
bool is_lower_hex(std::string_view s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// One part of a repository id: word characters at both ends, name characters between.
bool is_valid_id_part(std::string_view part) {
  return !part.empty() && part.size() <= 96 && is_word_char(part.front()) && is_word_char(part.back()) &&
         std::all_of(part.begin(), part.end(), is_name_char);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  return std::string(s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1));
}

// Printable ASCII only, so a hostile server's text cannot garble a terminal; at most `limit` characters.
std::string printable(std::string_view s, size_t limit = 200) {
  std::string out;
  for (char c : s.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > limit) out += "...";
  return out;
}

std::string header(const Headers& headers, const std::string& name) {
  const auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::optional<std::uint64_t> parse_size(const std::string& text) {
  if (text.empty() || text.size() > 19 || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
  return std::stoull(text);
}

}  // namespace

bool is_valid_repo_id(std::string_view id) {
  if (id.find("--") != std::string_view::npos || id.find("..") != std::string_view::npos) return false;
  if (id.size() >= 4 && id.substr(id.size() - 4) == ".git") return false;
  const size_t slash = id.find('/');
  if (slash == std::string_view::npos) return is_valid_id_part(id);
  return is_valid_id_part(id.substr(0, slash)) && is_valid_id_part(id.substr(slash + 1));
}

bool is_commit_hash(std::string_view s) { return is_lower_hex(s, 40); }
bool is_sha256(std::string_view s) { return is_lower_hex(s, 64); }

bool is_safe_revision(std::string_view revision) {
  if (revision.empty() || revision.size() > 255 || revision.front() == '/' || revision.back() == '/') return false;
  if (revision.find("..") != std::string_view::npos || revision.find("//") != std::string_view::npos) return false;
  return std::all_of(revision.begin(), revision.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '\\'; });
}

bool is_safe_etag(std::string_view etag) {
  return !etag.empty() && etag.size() <= 128 && etag != "." && etag != ".." &&
         std::all_of(etag.begin(), etag.end(), is_name_char);
}

bool is_safe_repo_file(std::string_view file) {
  if (file.empty() || file.size() > 1024 || file.front() == '/' || file.find('\\') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= file.size()) {
    const size_t end = std::min(file.find('/', start), file.size());
    const std::string_view part = file.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return std::all_of(file.begin(), file.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

std::string repo_folder_name(const std::string& repo_id) {
  std::string name = "models";
  size_t start = 0;
  while (true) {  // every '/' becomes "--" (huggingface_hub joins the parts with REPO_ID_SEPARATOR)
    const size_t slash = repo_id.find('/', start);
    name += "--" + repo_id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) return name;
    start = slash + 1;
  }
}

std::optional<std::string> repo_id_from_folder(std::string_view folder_name) {
  constexpr std::string_view prefix = "models--";
  if (folder_name.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string id(folder_name.substr(prefix.size()));
  if (const size_t sep = id.find("--"); sep != std::string::npos) id.replace(sep, 2, "/");
  if (!is_valid_repo_id(id)) return std::nullopt;
  return id;
}

std::string url_quote(std::string_view s, std::string_view safe) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~' || safe.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string resolve_url(const std::string& endpoint, const std::string& repo_id, const std::string& revision,
                        const std::string& file) {
  return endpoint + "/" + repo_id + "/resolve/" + url_quote(revision, "") + "/" + url_quote(file);
}

std::string model_info_url(const std::string& endpoint, const std::string& repo_id, const std::string& revision) {
  return endpoint + "/api/models/" + repo_id + "/revision/" + url_quote(revision, "");
}

std::string url_origin(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  const size_t end = url.find_first_of("/?#", scheme + 3);
  return lower(url.substr(0, end));
}

std::string follow_location(const std::string& url, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  const std::string origin = url_origin(url);
  if (location.rfind("//", 0) == 0) return origin.substr(0, origin.find("://") + 1) + location;
  if (location.rfind("/", 0) == 0) return origin + location;
  // A relative path: beside the last segment of the URL's path (query and fragment dropped).
  std::string base = url.substr(0, url.find_first_of("?#", origin.size()));
  const size_t slash = base.rfind('/');
  base = slash == std::string::npos || slash < origin.size() ? origin + "/" : base.substr(0, slash + 1);
  return base + location;
}

std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const std::string_view name = line.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; })) return std::nullopt;
  return std::pair{lower(name), trim(line.substr(colon + 1))};
}

std::optional<long> parse_status_line(std::string_view line) {
  if (line.substr(0, 5) != "HTTP/") return std::nullopt;
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return std::nullopt;
  const std::string_view code = line.substr(space + 1, 3);
  if (!std::all_of(code.begin(), code.end(), is_digit)) return std::nullopt;
  return std::stol(std::string(code));
}

std::string normalize_etag(std::string_view etag) {
  std::string_view e = etag;
  if (e.substr(0, 2) == "W/") e.remove_prefix(2);
  while (!e.empty() && e.front() == '"') e.remove_prefix(1);
  while (!e.empty() && e.back() == '"') e.remove_suffix(1);
  return std::string(e);
}

FileMetadata parse_file_metadata(long status, const Headers& headers, const std::string& url) {
  FileMetadata m;
  const bool redirect = status >= 300 && status < 400;
  m.commit = header(headers, "x-repo-commit");
  // The linked etag (an LFS file's sha256, on a redirect to its storage) wins over the answer's own ETag.
  m.etag = normalize_etag(!header(headers, "x-linked-etag").empty() ? header(headers, "x-linked-etag") : header(headers, "etag"));
  m.location = redirect && !header(headers, "location").empty() ? follow_location(url, header(headers, "location")) : url;
  const std::string linked = header(headers, "x-linked-size");
  m.size = parse_size(!linked.empty() ? linked : redirect ? "" : header(headers, "content-length"));
  const char* missing = m.commit.empty() ? "an X-Repo-Commit header" : m.etag.empty() ? "an ETag" : !m.size ? "a size" : nullptr;
  if (missing)
    throw HubError(HubError::Kind::BadAnswer,
                   printable(url) + " answered without " + missing + ": this server does not speak the Hugging Face "
                   "Hub's protocol (check HF_ENDPOINT, or a proxy or firewall in the way)");
  if (!is_commit_hash(m.commit))
    throw HubError(HubError::Kind::BadAnswer, printable(url) + " answered with a malformed commit id '" + printable(m.commit, 60) + "'");
  if (!is_safe_etag(m.etag))
    throw HubError(HubError::Kind::BadAnswer, printable(url) + " answered with a malformed ETag '" + printable(m.etag, 60) + "'");
  return m;
}

RepoInfo parse_model_info(std::string_view body, const std::string& repo_id) {
  const std::string source = "the Hub's description of " + repo_id;
  const nlohmann::json j = [&] {
    try {
      return parse_json(body, source);
    } catch (const Error& e) {
      throw HubError(HubError::Kind::BadAnswer, e.what());
    }
  }();
  auto bad = [&](const std::string& what) { return HubError(HubError::Kind::BadAnswer, source + ": " + what); };
  if (!j.is_object()) throw bad("not a JSON object");
  RepoInfo info;
  const auto sha = j.find("sha");
  if (sha == j.end() || !sha->is_string() || !is_commit_hash(sha->get<std::string>())) throw bad("no commit id (\"sha\")");
  info.commit = sha->get<std::string>();
  const auto siblings = j.find("siblings");
  if (siblings == j.end() || !siblings->is_array()) throw bad("no file list (\"siblings\")");
  for (const auto& s : *siblings) {
    if (!s.is_object()) throw bad("a \"siblings\" entry is not an object");
    const auto name = s.find("rfilename");
    if (name == s.end() || !name->is_string()) throw bad("a \"siblings\" entry has no \"rfilename\"");
    info.files.push_back(name->get<std::string>());
  }
  if (const auto gated = j.find("gated"); gated != j.end() && gated->is_string()) info.gated = gated->get<std::string>();
  return info;
}

std::vector<std::string> parse_shard_index(std::string_view body, const std::string& source) {
  const nlohmann::json j = parse_json(body, source);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw Error(source + ": no \"weight_map\" object");
  std::vector<std::string> shards;
  std::set<std::string> seen;
  for (const auto& [tensor, file] : j["weight_map"].items()) {
    if (!file.is_string()) throw Error(source + ": weight_map entry for '" + printable(tensor, 80) + "' is not a file name");
    const std::string f = file.get<std::string>();
    if (!is_safe_repo_file(f) || f.find('/') != std::string::npos)
      throw Error(source + ": shard name '" + printable(f, 80) + "' must be a plain file name");
    if (seen.insert(f).second) shards.push_back(f);
  }
  if (shards.empty()) throw Error(source + ": weight_map lists no shards");
  return shards;
}

FileChoice choose_files(const std::vector<std::string>& repo_files, const std::string& repo_id) {
  const std::set<std::string> have(repo_files.begin(), repo_files.end());
  FileChoice choice;
  if (!have.count("config.json"))
    throw HubError(HubError::Kind::EntryNotFound,
                   repo_id + " has no config.json: it is not a transformers model bertscope can open");
  choice.files.push_back("config.json");
  // The tokenizer: WordPiece (vocab.txt) or byte-level BPE (vocab.json + merges.txt), or tokenizer.json; settings.
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                        "vocab.txt", "vocab.json", "merges.txt"})
    if (have.count(f)) choice.files.push_back(f);
  // One weight format: safetensors (no pickle, memory-mapped) first, as bertscope's loader reads them.
  for (const char* single_or_index : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                                      "pytorch_model.bin.index.json"}) {
    if (!have.count(single_or_index)) continue;
    const std::string f = single_or_index;
    if (f.size() > 11 && f.substr(f.size() - 11) == ".index.json") choice.index = f;
    else choice.files.push_back(f);
    return choice;
  }
  std::vector<std::string> others;  // weights in a format bertscope does not read, to say what is there
  for (const auto& f : repo_files)
    for (const char* other : {"tf_model.h5", "flax_model.msgpack", "rust_model.ot", ".onnx", ".gguf", ".ckpt"})
      if (f.find(other) != std::string::npos && others.size() < 4) others.push_back(printable(f, 80));
  std::string message = repo_id + " has no weights bertscope reads (model.safetensors or pytorch_model.bin, or their "
                        "sharded index)";
  if (!others.empty()) {
    message += "; it has ";
    for (size_t i = 0; i < others.size(); ++i) message += (i ? ", " : "") + others[i];
  }
  throw HubError(HubError::Kind::EntryNotFound, message);
}

HubError error_from_status(long status, const Headers& headers, const RequestContext& c) {
  using Kind = HubError::Kind;
  const std::string code = header(headers, "x-error-code");
  const std::string server_message = printable(header(headers, "x-error-message"));
  const std::string page = c.endpoint + "/" + c.repo_id;
  const std::string what = c.file.empty() ? c.repo_id : c.file + " of " + c.repo_id;
  if (code == "RevisionNotFound")
    return HubError(Kind::RevisionNotFound, c.repo_id + " has no revision '" + printable(c.revision) +
                                                "' on the Hub (give a branch, a tag or a commit id with --revision)");
  if (code == "EntryNotFound")
    return HubError(Kind::EntryNotFound, c.repo_id + " at revision '" + printable(c.revision) + "' has no file '" +
                                             printable(c.file) + "'");
  if (code == "GatedRepo")
    return HubError(Kind::GatedRepo,
                    c.repo_id + " is a gated model: accept its licence on " + page + " (signed in to the Hub), then " +
                        (c.token_sent ? "check that the token in HF_TOKEN (or the token file) belongs to that account"
                                      : "set HF_TOKEN to an access token of that account (or put it in the token file, "
                                        "$HF_HOME/token)"));
  if (code == "RepoNotFound" || (status == 401 && server_message != "Invalid credentials in Authorization header"))
    return HubError(Kind::RepoNotFound,
                    "the Hugging Face Hub (" + c.endpoint + ") has no model '" + c.repo_id + "'; check the id, and " +
                        (c.token_sent ? "if it is private, that the token in HF_TOKEN can read it"
                                      : "if it is private, set HF_TOKEN to a token that can read it"));
  if (status == 401)
    return HubError(Kind::Unauthorized, "the Hub refused the token for " + what +
                                            " (invalid credentials): check HF_TOKEN or the token file");
  std::string message = "the Hub answered HTTP " + std::to_string(status) + " for " + what;
  if (!server_message.empty()) message += " (" + server_message + ")";
  if (status == 403) message += "; check that the token has the permissions it needs";
  if (status == 429) message += "; too many requests, try again later";
  if (status >= 500) message += "; the Hub may be down, try again later";
  return HubError(Kind::Server, message);
}

}  // namespace bertscope::hub
