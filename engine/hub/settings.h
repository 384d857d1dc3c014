#pragma once
// Where the Hub is and where its cache lies, read from the environment as huggingface_hub's constants.py and
// utils/_auth.py read it, so bertscope and Python share one cache and one login:
//   HF_ENDPOINT                 the Hub or a mirror (default https://huggingface.co), trailing '/' dropped
//   HF_HUB_CACHE                the cache; else HUGGINGFACE_HUB_CACHE; else $HF_HOME/hub
//   HF_HOME                     default $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface
//   HF_TOKEN                    the access token; else HUGGING_FACE_HUB_TOKEN; else the token file
//   HF_TOKEN_PATH               the token file (default $HF_HOME/token)
//   HF_HUB_OFFLINE              1/ON/YES/TRUE (any case): the cache only, never the network; TRANSFORMERS_OFFLINE too
// A leading "~" in a path is the home folder, as Python's expanduser.
#include <filesystem>
#include <string>

namespace bertscope::hub {

struct HubSettings {
  std::string endpoint = "https://huggingface.co";
  std::filesystem::path cache;
  std::string token;  // empty: none
  bool offline = false;
};

HubSettings hub_settings_from_environment();

}  // namespace bertscope::hub
