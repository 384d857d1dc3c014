#include "session.h"

#include <chrono>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/data_dir.h"
#include "core/error.h"
#include "core/json_io.h"
#include "hub/download.h"
#include "hub/protocol.h"
#include "model/pretrained.h"
#include "model/random_model.h"

namespace fs = std::filesystem;

namespace bertscope {

Session::Session(const fs::path& folder, const BackendRequest& request) {
  const auto t0 = std::chrono::steady_clock::now();
  Pretrained pretrained = open_pretrained(folder);
  const ModelConfig& config = pretrained.config;
  tokenizer_ = pretrained.tokenizer;
  Checkpoint checkpoint(folder);
  BackendChoice choice = choose_backend(request);
  backend_ = std::move(choice.backend);
  info_.backend_note = choice.note;
  info_.backend_warning = choice.warning;
  info_.self_check = choice.self_check_summary;
  model_ = std::make_unique<BertModel>(config, checkpoint, *backend_);

  info_.folder = folder;
  info_.architecture = config.architectures.empty() ? class_name(config.architecture(), HeadKind::Encoder)
                                                    : config.architectures[0];
  info_.model_type = config.model_type;
  info_.heads = model_->head_summary();
  info_.layers = config.num_hidden_layers;
  info_.hidden = config.hidden_size;
  info_.attention_heads = config.num_attention_heads;
  info_.intermediate = config.intermediate_size;
  info_.vocab = config.vocab_size;
  info_.max_positions = config.max_position_embeddings;
  info_.parameters = checkpoint.parameter_count();
  info_.file_bytes = checkpoint.total_bytes();
  info_.dtype = checkpoint.dtype_summary();
  info_.backend = backend_->name();
  info_.untrained = config.raw.value("bertscope_untrained", false);
  info_.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Session::~Session() {
  model_.reset();  // tensors go back to the backend before it is destroyed
  backend_.reset();
}

fs::path resolve_model_path(const std::string& argument) { return resolve_model_path(argument, hub::FetchOptions{}); }

fs::path resolve_model_path(const std::string& argument, const hub::FetchOptions& options) {
  std::error_code ec;
  if (fs::exists(argument, ec) || (argument != "default" && !hub::is_valid_repo_id(argument))) return argument;
  if (argument != "default") {
    try {
      return hub::open_hub_model(argument, options).folder;
    } catch (const hub::HubError& e) {
      if (e.kind() == hub::HubError::Kind::Cancelled) throw;
      throw hub::HubError(e.kind(), "no folder '" + argument + "' here; as a Hugging Face model id: " + e.what());
    }
  }
  const fs::path trained = data_dir() / "default-model";
  if (fs::exists(trained / "config.json")) return trained;
  // No pre-trained default yet: a small randomly initialised model, made once and labelled untrained.
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path base = cache ? fs::path(cache) : home ? fs::path(home) / ".cache" : fs::temp_directory_path();
  const fs::path folder = base / "bertscope" / "untrained-default";
  if (!fs::exists(folder / "model.safetensors")) {
    RandomModelSpec spec;
    spec.vocab_file = data_dir() / "vocab" / "bert-base-uncased-vocab.txt";
    spec.untrained_label = true;
    write_random_model(folder, spec);
  }
  return folder;
}

}  // namespace bertscope
