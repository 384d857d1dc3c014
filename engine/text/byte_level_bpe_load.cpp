// ByteLevelBpe::load: reading a RoBERTa-style folder (tokenizer.json, or vocab.json + merges.txt, with
// tokenizer_config.json and special_tokens_map.json) into a tokenizer, with clear errors naming the file and line.
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "text/byte_level.h"
#include "text/byte_level_bpe.h"

namespace fs = std::filesystem;

namespace bertscope {

using byte_level::quote_token;

namespace {

constexpr auto member = json_field;  // obj[key], or null

std::optional<bool> boolean(const nlohmann::json& obj, const char* key, const std::string& file) {
  const auto& v = member(obj, key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_boolean()) throw Error(file + ": " + key + " should be true or false, not " + describe_json(v));
  return v.get<bool>();
}

std::int32_t vocab_id(const nlohmann::json& v, const std::string& token, const std::string& file) {
  if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= (1LL << 28))
    throw Error(file + ": the id of " + quote_token(token) + " is " + describe_json(v) + ", not an id from 0 to 2^28");
  return static_cast<std::int32_t>(v.get<long long>());
}

// {"token": id, ...} (vocab.json, or tokenizer.json's model.vocab) as id -> token.
std::vector<std::string> read_vocab(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object() || j.empty()) throw Error(file + ": the vocabulary should be a non-empty {\"token\": id} object");
  std::vector<std::pair<std::int32_t, std::string>> entries;
  for (const auto& [token, id] : j.items()) {
    if (token.empty()) throw Error(file + ": the vocabulary has an empty token");
    entries.emplace_back(vocab_id(id, token, file), token);
  }
  std::vector<std::string> vocab(entries.size());
  for (auto& [id, token] : entries) {
    if (static_cast<size_t>(id) >= vocab.size())
      throw Error(file + ": id " + std::to_string(id) + " of " + quote_token(token) + " is outside 0.." +
                  std::to_string(vocab.size() - 1) + " (ids must number the entries)");
    if (!vocab[id].empty())
      throw Error(file + ": id " + std::to_string(id) + " is both " + quote_token(vocab[id]) + " and " +
                  quote_token(token));
    vocab[id] = std::move(token);
  }
  return vocab;
}

// One merge written as "left right" (merges.txt, or tokenizer.json before tokenizers 0.20), split as Hugging Face
// does: at single spaces, into exactly two parts.
std::optional<ByteLevelBpe::Merge> parse_merge_line(std::string_view line) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 >= line.size()) return std::nullopt;
  if (line.find(' ', space + 1) != std::string_view::npos) return std::nullopt;
  return ByteLevelBpe::Merge{std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

std::vector<ByteLevelBpe::Merge> read_merges_txt(const fs::path& path) {
  constexpr std::uintmax_t kMaxBytes = 64u << 20;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw Error(path.string() + ": cannot open (" + ec.message() + ")");
  if (size > kMaxBytes)
    throw Error(path.string() + ": " + std::to_string(size) + " bytes, more than a merges file may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::vector<ByteLevelBpe::Merge> merges;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // written on Windows
    if (line.empty()) continue;                                  // the final newline, or a blank line
    if (line.rfind("#version", 0) == 0) continue;                // "#version: 0.2", as Hugging Face skips it
    auto merge = parse_merge_line(line);
    if (!merge)
      throw Error(path.string() + " line " + std::to_string(number) + ": " + quote_token(line) +
                  " is not two tokens separated by one space");
    merges.push_back(std::move(*merge));
  }
  return merges;
}

std::vector<ByteLevelBpe::Merge> read_json_merges(const nlohmann::json& j, const std::string& file) {
  if (!j.is_array()) throw Error(file + ": model.merges should be an array, not " + describe_json(j));
  std::vector<ByteLevelBpe::Merge> merges;
  merges.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& m = j[i];
    std::optional<ByteLevelBpe::Merge> merge;
    if (m.is_string()) merge = parse_merge_line(m.get<std::string>());
    else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
      merge = ByteLevelBpe::Merge{m[0].get<std::string>(), m[1].get<std::string>()};
    if (!merge || merge->first.empty() || merge->second.empty())
      throw Error(file + ": model.merges[" + std::to_string(i) + "] is " + describe_json(m) +
                  ", not \"left right\" or [\"left\", \"right\"]");
    merges.push_back(std::move(*merge));
  }
  return merges;
}

AddedToken read_added_token(const nlohmann::json& t, const std::string& where, const std::string& file) {
  const auto& content = member(t, "content");
  if (!content.is_string()) throw Error(file + ": " + where + " has no \"content\" string");
  AddedToken a;
  a.content = content.get<std::string>();
  if (const auto& id = member(t, "id"); !id.is_null()) a.id = vocab_id(id, a.content, file);
  // tokenizers' AddedToken defaults: not special, normalized, no stripping.
  a.special = boolean(t, "special", file).value_or(false);
  a.lstrip = boolean(t, "lstrip", file).value_or(false);
  a.rstrip = boolean(t, "rstrip", file).value_or(false);
  a.single_word = boolean(t, "single_word", file).value_or(false);
  a.normalized = boolean(t, "normalized", file).value_or(true);
  return a;
}

// What tokenizer_config.json and special_tokens_map.json say (the second wins, as in transformers).
struct FolderConfig {
  ByteLevelBpeRoles roles;
  std::array<bool, 5> named{};         // roles a file names (a missing one is then an error, not "none")
  std::array<std::string, 5> named_in;  // which file
  std::vector<AddedToken> role_tokens;  // roles given as objects, with their flags
  std::vector<AddedToken> added_tokens_decoder;
  std::optional<bool> add_prefix_space, trim_offsets, clean_up;
  std::optional<double> model_max_length;
  bool has_tokenizer_config = false;
};

constexpr const char* kRoleKeys[5] = {"cls_token", "sep_token", "pad_token", "unk_token", "mask_token"};

std::string* role_slot(ByteLevelBpeRoles& roles, int i) {
  std::string* slots[5] = {&roles.cls, &roles.sep, &roles.pad, &roles.unk, &roles.mask};
  return slots[i];
}

void read_roles(const nlohmann::json& j, const std::string& file, FolderConfig& config) {
  for (int i = 0; i < 5; ++i) {
    const auto it = j.find(kRoleKeys[i]);
    if (it == j.end()) continue;
    const nlohmann::json& v = *it;
    std::string name;
    if (v.is_null()) {
      name.clear();  // the model has none
    } else if (v.is_string()) {
      name = v.get<std::string>();
    } else if (v.is_object()) {  // a serialised AddedToken: {"content": "<mask>", "lstrip": true, ...}
      AddedToken a = read_added_token(v, kRoleKeys[i], file);
      a.special = true;
      name = a.content;
      config.role_tokens.push_back(a);
    } else {
      throw Error(file + ": " + kRoleKeys[i] + " should be a string or an object, not " + describe_json(v));
    }
    *role_slot(config.roles, i) = name;
    config.named[i] = !name.empty();
    config.named_in[i] = file;
  }
}

FolderConfig read_folder_config(const fs::path& folder) {
  FolderConfig config;
  const fs::path tokenizer_config = folder / "tokenizer_config.json", map = folder / "special_tokens_map.json";
  if (fs::exists(tokenizer_config)) {
    config.has_tokenizer_config = true;
    const std::string file = tokenizer_config.string();
    const nlohmann::json c = read_json_file(tokenizer_config);
    if (!c.is_object()) throw Error(file + ": should be a JSON object");
    read_roles(c, file, config);
    config.add_prefix_space = boolean(c, "add_prefix_space", file);
    config.trim_offsets = boolean(c, "trim_offsets", file);
    config.clean_up = boolean(c, "clean_up_tokenization_spaces", file);
    if (const auto& m = member(c, "model_max_length"); m.is_number()) config.model_max_length = m.get<double>();
    if (const auto& d = member(c, "added_tokens_decoder"); !d.is_null()) {
      if (!d.is_object()) throw Error(file + ": added_tokens_decoder should be an {\"id\": token} object");
      for (const auto& [key, t] : d.items()) {
        AddedToken a = read_added_token(t, "added_tokens_decoder[\"" + key + "\"]", file);
        try {
          size_t used = 0;
          const long long id = std::stoll(key, &used);
          if (used != key.size() || id < 0 || id >= (1LL << 28)) throw std::invalid_argument(key);
          a.id = static_cast<std::int32_t>(id);
        } catch (const std::exception&) {
          throw Error(file + ": added_tokens_decoder key " + quote_token(key) + " is not an id");
        }
        config.added_tokens_decoder.push_back(a);
      }
    }
  }
  if (fs::exists(map)) {
    const nlohmann::json m = read_json_file(map);
    if (!m.is_object()) throw Error(map.string() + ": should be a JSON object");
    read_roles(m, map.string(), config);
  }
  return config;
}

struct ModelFiles {  // what tokenizer.json or vocab.json + merges.txt give
  std::vector<std::string> vocab;
  std::vector<ByteLevelBpe::Merge> merges;
  std::vector<AddedToken> added;
  ByteLevelBpeOptions options;
  std::optional<std::string> unk_token;
  bool fuse_unk = false;
  std::optional<std::pair<std::string, std::int32_t>> cls, sep;  // RobertaProcessing's
  std::string source;  // the file(s), for messages
};

std::pair<std::string, std::int32_t> processor_token(const nlohmann::json& p, const char* key,
                                                     const std::string& file) {
  const auto& v = member(p, key);
  if (!v.is_array() || v.size() != 2 || !v[0].is_string())
    throw Error(file + ": post_processor." + key + " should be [\"token\", id], not " + describe_json(v));
  return {v[0].get<std::string>(), vocab_id(v[1], v[0].get<std::string>(), file)};
}

ModelFiles read_tokenizer_json(const fs::path& path) {
  const std::string file = path.string();
  const nlohmann::json j = read_json_file(path);
  ModelFiles m;
  m.source = file;
  const auto& model = member(j, "model");
  const auto& type = member(model, "type");
  if (type != "BPE")
    throw Error(file + ": model.type is " + describe_json(type) + "; a RoBERTa (byte-level BPE) tokenizer has \"BPE\"");
  m.vocab = read_vocab(member(model, "vocab"), file);
  m.merges = read_json_merges(member(model, "merges"), file);
  if (const auto& unk = member(model, "unk_token"); unk.is_string()) m.unk_token = unk.get<std::string>();
  m.fuse_unk = boolean(model, "fuse_unk", file).value_or(false);
  m.options.ignore_merges = boolean(model, "ignore_merges", file).value_or(false);
  if (boolean(model, "byte_fallback", file).value_or(false))
    throw Error(file + ": model.byte_fallback is not supported (a byte-level BPE has every byte already)");
  if (const auto& d = member(model, "dropout"); !d.is_null() && !(d.is_number() && d.get<double>() == 0))
    throw Error(file + ": model.dropout " + describe_json(d) + " is not supported (it makes tokenization random)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (const auto& v = member(model, key); !v.is_null() && v != "")
      throw Error(file + ": model." + key + " " + describe_json(v) + " is not supported (RoBERTa has none)");
  if (const auto& n = member(j, "normalizer"); !n.is_null())
    throw Error(file + ": normalizer " + describe_json(member(n, "type")) + " is not supported (RoBERTa has none)");
  const auto& pre = member(j, "pre_tokenizer");
  if (member(pre, "type") != "ByteLevel")
    throw Error(file + ": pre_tokenizer is " + describe_json(member(pre, "type")) + "; RoBERTa's is \"ByteLevel\"");
  m.options.add_prefix_space = boolean(pre, "add_prefix_space", file).value_or(true);  // tokenizers' default
  m.options.use_regex = boolean(pre, "use_regex", file).value_or(true);
  const auto& post = member(j, "post_processor");
  if (member(post, "type") != "RobertaProcessing")
    throw Error(file + ": post_processor is " + describe_json(member(post, "type")) +
                "; RoBERTa's is \"RobertaProcessing\"");
  m.cls = processor_token(post, "cls", file);
  m.sep = processor_token(post, "sep", file);
  m.options.trim_offsets = boolean(post, "trim_offsets", file).value_or(true);
  if (const auto& added = member(j, "added_tokens"); !added.is_null()) {
    if (!added.is_array()) throw Error(file + ": added_tokens should be an array");
    for (size_t i = 0; i < added.size(); ++i)
      m.added.push_back(read_added_token(added[i], "added_tokens[" + std::to_string(i) + "]", file));
  }
  return m;
}

ModelFiles read_vocab_and_merges(const fs::path& folder) {
  const fs::path vocab = folder / "vocab.json", merges = folder / "merges.txt";
  ModelFiles m;
  m.source = vocab.string() + " + " + merges.string();
  m.vocab = read_vocab(read_json_file(vocab), vocab.string());
  m.merges = read_merges_txt(merges);
  // transformers converts these with RobertaConverter: no unk_token in the BPE model, trim_offsets on.
  return m;
}

}  // namespace

ByteLevelBpe ByteLevelBpe::load(const fs::path& folder, int max_tokens) {
  if (max_tokens <= 0) throw Error("max_tokens " + std::to_string(max_tokens) + " is not a length");
  const fs::path tok_json = folder / "tokenizer.json";
  ModelFiles m;
  if (fs::exists(tok_json)) {
    m = read_tokenizer_json(tok_json);
  } else if (fs::exists(folder / "vocab.json") && fs::exists(folder / "merges.txt")) {
    m = read_vocab_and_merges(folder);
  } else {
    throw Error(folder.string() + ": no tokenizer.json, nor vocab.json with merges.txt (a RoBERTa tokenizer)");
  }
  FolderConfig config = read_folder_config(folder);
  // transformers' RobertaTokenizerFast imposes its own add_prefix_space (default false) and trim_offsets (default
  // true) on tokenizer.json's whenever it loads a folder, and a folder with tokenizer_config.json is one it loads.
  if (config.has_tokenizer_config) {
    m.options.add_prefix_space = config.add_prefix_space.value_or(false);
    m.options.trim_offsets = config.trim_offsets.value_or(true);
  }
  m.options.clean_up_tokenization_spaces = config.clean_up.value_or(true);
  m.options.model_max_length = max_tokens;
  if (config.model_max_length && *config.model_max_length > 0 && *config.model_max_length < max_tokens)
    m.options.model_max_length = static_cast<int>(*config.model_max_length);  // 1e30 means "no limit": ignored
  if (m.cls) config.roles.cls = m.cls->first;
  if (m.sep) config.roles.sep = m.sep->first;

  // The vocabulary as the model has it (the added tokens come on top of it in the constructor).
  std::unordered_map<std::string, std::int32_t> ids;
  for (size_t i = 0; i < m.vocab.size(); ++i) ids.emplace(m.vocab[i], static_cast<std::int32_t>(i));
  auto known = [&](const std::string& t) {
    return ids.count(t) > 0 || std::any_of(m.added.begin(), m.added.end(), [&](auto& a) { return a.content == t; });
  };
  for (const auto& t : config.added_tokens_decoder)
    if (!known(t.content)) m.added.push_back(t);
  // The role tokens are special added tokens whether or not the file lists them (transformers adds them);
  // RoBERTa's <mask> takes the space before it. One a config file names must exist.
  for (int i = 0; i < 5; ++i) {
    const std::string& name = *role_slot(config.roles, i);
    if (name.empty()) continue;
    if (!known(name)) {
      if (config.named[i])
        throw Error(config.named_in[i] + ": " + kRoleKeys[i] + " " + quote_token(name) + " is not in " + m.source);
      continue;  // a default name the model does not have: no such token
    }
    if (std::any_of(m.added.begin(), m.added.end(), [&](auto& a) { return a.content == name; })) continue;
    AddedToken a;
    a.content = name;
    a.lstrip = i == 4;
    a.normalized = false;
    for (const auto& r : config.role_tokens)
      if (r.content == name) a = r;
    m.added.push_back(a);
  }
  try {
    ByteLevelBpe bpe(std::move(m.vocab), m.merges, std::move(m.added), m.options, config.roles, m.unk_token,
                     m.fuse_unk);
    for (const auto* p : {&m.cls, &m.sep})
      if (*p && bpe.find((*p)->first) != (*p)->second)
        throw Error("the post_processor gives " + quote_token((*p)->first) + " id " + std::to_string((*p)->second) +
                    " but the vocabulary " + std::to_string(bpe.find((*p)->first).value_or(-1)));
    return bpe;
  } catch (const Error& e) {
    throw Error(m.source + ": " + e.what());
  }
}

}  // namespace bertscope
