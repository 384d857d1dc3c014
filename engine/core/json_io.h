#pragma once
// Reading JSON a user or a model folder gives us (config.json, tokenizer.json, a safetensors header, a JSONL line),
// with bounds: a nesting depth limit (nlohmann's dump() and our own walks recurse, so a 70,000-deep array would
// overflow the stack) and a size limit, and messages that name the source.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bertscope {

constexpr int kMaxJsonDepth = 64;  // Hugging Face's files nest a few levels; tokenizer.json the most, about 6

// Parses `text`; throws Error "<source>: not valid JSON (...)" or "<source>: nested deeper than 64 levels".
nlohmann::json parse_json(std::string_view text, const std::string& source);
// Reads and parses a file of at most `max_bytes`; throws Error naming the file.
nlohmann::json read_json_file(const std::filesystem::path& path, std::uintmax_t max_bytes = 64u << 20);
// A short, printable description of a value for an error message: a scalar as JSON (at most 60 characters, bad UTF-8
// replaced), an array or object by its kind and size. Never recurses.
std::string describe_json(const nlohmann::json& value);
// obj[key], or null when obj is not an object or has no such key (nlohmann's const operator[] is undefined then).
const nlohmann::json& json_field(const nlohmann::json& obj, const char* key);
// dump() that never throws on invalid UTF-8 in strings (replaced by U+FFFD): for output built from user text.
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace bertscope
