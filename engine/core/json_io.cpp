#include "core/json_io.h"

#include <fstream>
#include <sstream>

#include "core/error.h"

namespace bertscope {

namespace {
struct TooDeep {};  // thrown from the parser callback, caught below
}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  auto depth_guard = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), depth_guard);
  } catch (const TooDeep&) {
    throw Error(source + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's text starts with its own code ("[json.exception.parse_error.101] parse error at line 1, ..."):
    // the user needs the part after it.
    std::string why = e.what();
    if (why.rfind("[json.exception.", 0) == 0 && why.find("] ") != std::string::npos) why = why.substr(why.find("] ") + 2);
    throw Error(source + ": not valid JSON (" + why + ")");
  }
}

nlohmann::json read_json_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(path.string() + ": cannot open (" + ec.message() + ")");
  if (size > max_bytes)
    throw Error(path.string() + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
                " a JSON file of a model may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_json(text.str(), path.string());
}

std::string describe_json(const nlohmann::json& value) {
  if (value.is_array()) return "an array of " + std::to_string(value.size());
  if (value.is_object()) return "an object of " + std::to_string(value.size()) + " fields";
  std::string s = dump_json(value);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::string dump_json(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

const nlohmann::json& json_field(const nlohmann::json& obj, const char* key) {
  static const nlohmann::json null;
  if (!obj.is_object()) return null;
  const auto it = obj.find(key);
  return it == obj.end() ? null : *it;
}

}  // namespace bertscope
