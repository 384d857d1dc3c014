#pragma once
// Where bertscope's data lives: the default model (default-model/), the fallback vocabulary (vocab/) and the
// licences of both (LICENSES.md). An install keeps them in <prefix>/share/bertscope; a build tree in
// <build>/share/bertscope (a link to the checkout's resources/, made by CMake). No path is compiled in, so a copied
// or installed binary finds its own data. The order:
//   1. $BERTSCOPE_DATA_DIR when set and not empty: the user's explicit choice wins over what bertscope would guess,
//      and a value that is not a folder is an error, not silently passed over;
//   2. share/bertscope beside the binary's parent folder: an install (/usr/bin/bertscope -> /usr/share/bertscope)
//      or the CLI in a build tree (build/app/bertscope-cli -> build/share/bertscope);
//   3. share/bertscope one folder further up: the app and the tests in a build tree
//      (build/app/gui/bertscope, build/tests/fuzz/... -> build/share/bertscope).
#include <filesystem>
#include <string>

namespace bertscope {

// The data folder for a binary at `executable`, with `env` the value of BERTSCOPE_DATA_DIR (null: unset).
// Throws Error naming where it looked, and the variable to set, when there is none.
std::filesystem::path find_data_dir(const std::filesystem::path& executable, const char* env);

// find_data_dir for this process (/proc/self/exe and the environment).
std::filesystem::path data_dir();

}  // namespace bertscope
