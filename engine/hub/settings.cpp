#include "hub/settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

namespace fs = std::filesystem;

namespace bertscope::hub {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Python's os.path.expanduser for "~" and "~/...".
fs::path expand_user(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) return fs::path(env("HOME")) / path.substr(std::min<size_t>(2, path.size()));
  return path;
}

bool is_true(std::string value) {  // huggingface_hub's ENV_VARS_TRUE_VALUES
  std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return std::toupper(c); });
  return value == "1" || value == "ON" || value == "YES" || value == "TRUE";
}

// Tokens lose their line breaks and surrounding blanks (huggingface_hub's _clean_token).
std::string clean_token(std::string token) {
  token.erase(std::remove_if(token.begin(), token.end(), [](char c) { return c == '\r' || c == '\n'; }), token.end());
  const size_t begin = token.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return token.substr(begin, token.find_last_not_of(" \t") - begin + 1);
}

}  // namespace

HubSettings hub_settings_from_environment() {
  HubSettings s;
  if (const std::string endpoint = env("HF_ENDPOINT"); !endpoint.empty()) s.endpoint = endpoint;
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();

  const fs::path cache_home = !env("XDG_CACHE_HOME").empty() ? fs::path(env("XDG_CACHE_HOME")) : expand_user("~/.cache");
  const fs::path hf_home = !env("HF_HOME").empty() ? expand_user(env("HF_HOME")) : cache_home / "huggingface";
  if (!env("HF_HUB_CACHE").empty()) s.cache = expand_user(env("HF_HUB_CACHE"));
  else if (!env("HUGGINGFACE_HUB_CACHE").empty()) s.cache = expand_user(env("HUGGINGFACE_HUB_CACHE"));
  else s.cache = hf_home / "hub";

  s.token = clean_token(!env("HF_TOKEN").empty() ? env("HF_TOKEN") : env("HUGGING_FACE_HUB_TOKEN"));
  if (s.token.empty()) {
    const fs::path file = !env("HF_TOKEN_PATH").empty() ? expand_user(env("HF_TOKEN_PATH")) : hf_home / "token";
    std::ifstream in(file);
    std::string text(4096, '\0');  // a token is a short line: never read a huge file whole
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(in ? text.size() : static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
    s.token = clean_token(text);
  }
  s.offline = is_true(!env("HF_HUB_OFFLINE").empty() ? env("HF_HUB_OFFLINE") : env("TRANSFORMERS_OFFLINE"));
  return s;
}

}  // namespace bertscope::hub
