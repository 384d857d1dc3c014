#pragma once
// Reading a whole file a user gives us (vocab.txt, a CSV) with its real size checked first: a file larger than a
// sane bound is refused before anything is allocated, and the buffer is sized from the file, never from a count
// the file declares.
#include <cstdint>
#include <filesystem>
#include <string>

namespace bertscope {

// All of `path`. Throws Error naming the file when it cannot be read, is not a regular file, or holds more than
// `max_bytes`; `what` says what the file should be ("a vocabulary (vocab.txt)") in that message.
std::string read_file_bounded(const std::filesystem::path& path, std::uintmax_t max_bytes, const std::string& what);

// "512 bytes", "64 KiB", "1.5 MiB", "2 GiB": a size for a message.
std::string describe_bytes(std::uintmax_t bytes);

}  // namespace bertscope
