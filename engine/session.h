#pragma once
// Session: the one facade the CLI and the GUI use. Opens a Hugging Face model folder (or the built-in default) on
// the requested backend and holds the config, tokenizer and model together. Not thread-safe: one thread at a time.
#include <filesystem>
#include <memory>
#include <string>

#include "backend_choice.h"
#include "core/backend.h"
#include "model/bert_model.h"
#include "model/config.h"
#include "text/tokenizer.h"

namespace bertscope {

struct ModelInfo {
  std::filesystem::path folder;
  std::string architecture;  // config.json's architectures[0], or the family's bare encoder ("BertModel")
  std::string model_type;    // "bert", "distilbert", "roberta"
  std::string heads;         // e.g. "masked LM + next sentence"
  int layers = 0, hidden = 0, attention_heads = 0, intermediate = 0, vocab = 0, max_positions = 0;
  std::int64_t parameters = 0;
  std::uint64_t file_bytes = 0;
  std::string dtype;
  std::string backend;       // where it runs
  std::string backend_note;  // why (e.g. "no Vulkan device: using the CPU")
  std::string backend_warning;  // what the user must see (a GPU that failed its self-check; see backend_choice.h)
  std::string self_check;    // the GPU self-check's outcome ("passed", "failed (remembered from ...)"); empty: none
  double load_ms = 0;
  bool untrained = false;    // random weights (the placeholder default model)
};

class Session {
 public:
  Session(const std::filesystem::path& folder, const BackendRequest& request = {});
  ~Session();

  const ModelInfo& info() const { return info_; }
  const ModelConfig& config() const { return model_->config(); }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  BertModel& model() { return *model_; }
  Backend& backend() { return *backend_; }

 private:
  std::unique_ptr<Backend> backend_;  // declared first: destroyed last, after the model's tensors
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::unique_ptr<BertModel> model_;
  ModelInfo info_;
};

namespace hub { struct FetchOptions; }
// The model folder an argument names, in this order: an existing path as is; "default", the built-in model folder
// (creating the untrained placeholder on first use); a Hugging Face Hub id ("name" or "org/name") from the Hub's
// cache, else downloaded into it (hub/download.h: `options` carry the revision, progress and cancellation; a
// HubError says what failed, after "no folder 'X' here"). Anything else as is, for open_pretrained to refuse.
std::filesystem::path resolve_model_path(const std::string& argument);
std::filesystem::path resolve_model_path(const std::string& argument, const hub::FetchOptions& options);

}  // namespace bertscope
