#include "session.h"

#include <chrono>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "cpu/cpu_backend.h"
#include "gpu/vulkan_backend.h"
#include "model/pretrained.h"
#include "model/random_model.h"

namespace fs = std::filesystem;

namespace bertscope {

BackendKind parse_backend_kind(const std::string& name) {
  if (name == "auto") return BackendKind::Auto;
  if (name == "vulkan") return BackendKind::Vulkan;
  if (name == "cpu") return BackendKind::Cpu;
  throw Error("unknown backend '" + name + "' (choose auto, vulkan or cpu)");
}

std::unique_ptr<Backend> make_backend(const BackendRequest& request, std::string* note) {
  if (request.kind == BackendKind::Cpu) return std::make_unique<CpuBackend>();
  if (request.kind == BackendKind::Auto && request.device < 0) {
    // Only a software Vulkan device (lavapipe) here: the CPU backend computes the same, several times faster.
    auto devices = gpu::VulkanContext::list_devices();
    bool hardware = false;
    for (const auto& d : devices) hardware |= d.vk_type != VK_PHYSICAL_DEVICE_TYPE_CPU;
    if (!devices.empty() && !hardware) {
      if (note) *note = "only a software Vulkan device (" + devices[0].name + ") exists; the CPU backend is faster, "
                        "so it runs the model (--backend vulkan uses " + devices[0].name + ")";
      return std::make_unique<CpuBackend>();
    }
  }
  try {
    return std::make_unique<gpu::VulkanBackend>(request.device, request.validation);
  } catch (const Error& e) {
    if (request.kind == BackendKind::Vulkan) throw;
    if (note) *note = std::string("Vulkan unavailable (") + e.what() + "); using the CPU backend";
    return std::make_unique<CpuBackend>();
  }
}

Session::Session(const fs::path& folder, const BackendRequest& request) {
  const auto t0 = std::chrono::steady_clock::now();
  Pretrained pretrained = open_pretrained(folder);
  const ModelConfig& config = pretrained.config;
  tokenizer_ = pretrained.tokenizer;
  Checkpoint checkpoint(folder);
  backend_ = make_backend(request, &info_.backend_note);
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

fs::path resource_dir() {
  if (const char* env = std::getenv("BERTSCOPE_RESOURCES")) return env;
#ifdef BERTSCOPE_SOURCE_RESOURCES
  if (fs::exists(BERTSCOPE_SOURCE_RESOURCES)) return BERTSCOPE_SOURCE_RESOURCES;
#endif
  return "/usr/share/bertscope";
}

fs::path resolve_model_path(const std::string& argument) {
  if (argument != "default") return argument;
  const fs::path trained = resource_dir() / "default-model";
  if (fs::exists(trained / "config.json")) return trained;
  // No pre-trained default yet: a small randomly initialised model, made once and labelled untrained.
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const fs::path base = cache ? fs::path(cache) : home ? fs::path(home) / ".cache" : fs::temp_directory_path();
  const fs::path folder = base / "bertscope" / "untrained-default";
  if (!fs::exists(folder / "model.safetensors")) {
    RandomModelSpec spec;
    spec.vocab_file = resource_dir() / "vocab" / "bert-base-uncased-vocab.txt";
    spec.untrained_label = true;
    write_random_model(folder, spec);
  }
  return folder;
}

}  // namespace bertscope
