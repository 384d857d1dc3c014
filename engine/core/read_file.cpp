#include "core/read_file.h"

#include <cstdio>
#include <fstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace bertscope {

std::string describe_bytes(std::uintmax_t bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  if (unit == 0) return std::to_string(bytes) + " bytes";
  char text[32];
  std::snprintf(text, sizeof text, value < 10 && value != static_cast<int>(value) ? "%.1f %s" : "%.0f %s", value, units[unit]);
  return text;
}

std::string read_file_bounded(const fs::path& path, std::uintmax_t max_bytes, const std::string& what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw Error(path.string() + ": " + (fs::exists(path, ec) ? "not a regular file" : "no such file") +
                "; expected " + what);
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw Error(path.string() + ": cannot read (" + ec.message() + ")");
  if (size > max_bytes)
    throw Error(path.string() + ": " + std::to_string(size) + " bytes, more than the " + describe_bytes(max_bytes) + " " +
                what + " may have");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string() + ": cannot open");
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<size_t>(in.gcount()));  // the file may have shrunk since; it never grows the buffer
  if (in.bad()) throw Error(path.string() + ": read error");
  return text;
}

}  // namespace bertscope
