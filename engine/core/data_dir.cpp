#include "core/data_dir.h"

#include <cstdlib>

#include "core/error.h"

namespace fs = std::filesystem;

namespace bertscope {

fs::path find_data_dir(const fs::path& executable, const char* env) {
  std::error_code ec;
  if (env && *env) {
    if (!fs::is_directory(env, ec))
      throw Error("BERTSCOPE_DATA_DIR is set to '" + std::string(env) + "', which is not a folder (it should hold "
                  "default-model/ and vocab/; unset it to use the data installed with bertscope)");
    return env;
  }
  std::string looked;
  fs::path folder = executable.parent_path();  // bin/ (install), app/ or app/gui/ (build tree)
  for (int up = 0; up < 2 && !folder.empty(); ++up) {
    const fs::path candidate = folder.parent_path() / "share" / "bertscope";
    if (fs::is_directory(candidate, ec)) return candidate;
    looked += (looked.empty() ? "" : ", ") + candidate.string();
    folder = folder.parent_path();
  }
  const std::string binary = executable.empty() ? std::string("this binary (its path is unknown)") : executable.string();
  throw Error("bertscope's data folder (the default model and vocabulary) is not beside " + binary +
              " (looked in " + (looked.empty() ? std::string("no folder") : looked) +
              "); set BERTSCOPE_DATA_DIR to a folder holding default-model/ and vocab/ (an installed "
              "share/bertscope, or resources/ of a bertscope checkout)");
}

fs::path data_dir() {
  std::error_code ec;
  const fs::path executable = fs::read_symlink("/proc/self/exe", ec);  // symlinks resolved: the real binary
  return find_data_dir(ec ? fs::path() : executable, std::getenv("BERTSCOPE_DATA_DIR"));
}

}  // namespace bertscope
