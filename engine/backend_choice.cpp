#include "backend_choice.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_io.h"
#include "core/safe_files.h"
#include "cpu/cpu_backend.h"
#include "gpu/vulkan_backend.h"

namespace fs = std::filesystem;

namespace bertscope {

namespace {

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

constexpr const char* kOnTheCpu = "; running on the CPU instead (choose the device explicitly, e.g. --backend vulkan, "
                                  "to use it anyway)";

std::string quoted(const gpu::VulkanDeviceInfo& d) { return "Vulkan device '" + d.name + "'"; }

std::string failed_before(const GpuVerdict& v) {
  return "failed bertscope's GPU self-check on " + v.checked + " (" + v.reason + ")";
}

// Runs the check on `vulkan`, remembers the verdict; a store that cannot be written only costs a note.
GpuVerdict check_and_remember(Backend& vulkan, const std::string& key, GpuVerdictStore* store,
                              gpu::SelfCheckResult& result, std::string* note) {
  CpuBackend reference;
  result = gpu::run_self_check(vulkan, reference);
  GpuVerdict verdict{result.passed, result.reason, now_utc()};
  if (store) {
    try {
      store->remember(key, verdict);
    } catch (const std::exception& e) {
      if (note) *note = std::string("the self-check's verdict could not be remembered: ") + e.what();
    }
  }
  return verdict;
}

std::optional<GpuVerdict> find_verdict(GpuVerdictStore* store, const std::string& key) {
  if (!store) return std::nullopt;
  try {
    return store->find(key);
  } catch (const std::exception&) {  // an unreadable store is an empty one: the check runs again
    return std::nullopt;
  }
}

std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : b.empty() ? a : a + "; " + b; }

}  // namespace

BackendKind parse_backend_kind(const std::string& name) {
  if (name == "auto") return BackendKind::Auto;
  if (name == "vulkan") return BackendKind::Vulkan;
  if (name == "cpu") return BackendKind::Cpu;
  throw Error("unknown backend '" + name + "' (choose auto, vulkan or cpu)");
}

std::string device_key(const gpu::VulkanDeviceInfo& d) {
  char ids[96];
  std::snprintf(ids, sizeof ids, " [%04x:%04x] driver %u (0x%08x), kernels ", d.vendor_id, d.device_id,
                d.driver_version, d.driver_version);
  return d.name + ids + gpu::kernel_fingerprint();
}

// ---- FileVerdictStore ----

FileVerdictStore::FileVerdictStore(fs::path file) : file_(std::move(file)) {}

fs::path FileVerdictStore::default_file() {
  const char* config = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  if (config && *config) return fs::path(config) / "bertscope" / "gpu-self-check.json";
  if (home && *home) return fs::path(home) / ".config" / "bertscope" / "gpu-self-check.json";
  return {};
}

namespace {
nlohmann::json read_store(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return nlohmann::json::object();
  std::stringstream text;
  text << in.rdbuf();
  try {
    nlohmann::json j = parse_json(text.str(), file.string());
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const std::exception&) {  // damaged: forget it, the checks run again
    return nlohmann::json::object();
  }
}
}  // namespace

std::optional<GpuVerdict> FileVerdictStore::find(const std::string& key) {
  if (file_.empty()) return std::nullopt;
  const nlohmann::json all = read_store(file_);
  if (!all.contains(key) || !all[key].is_object()) return std::nullopt;
  const nlohmann::json& v = all[key];
  if (!v.contains("passed") || !v["passed"].is_boolean()) return std::nullopt;
  GpuVerdict verdict;
  verdict.passed = v["passed"].get<bool>();
  if (v.contains("reason") && v["reason"].is_string()) verdict.reason = v["reason"].get<std::string>();
  if (v.contains("checked") && v["checked"].is_string()) verdict.checked = v["checked"].get<std::string>();
  return verdict;
}

void FileVerdictStore::remember(const std::string& key, const GpuVerdict& verdict) {
  if (file_.empty()) return;
  nlohmann::json all = read_store(file_);
  all[key] = {{"passed", verdict.passed}, {"reason", verdict.reason}, {"checked", verdict.checked}};
  std::error_code ec;
  fs::create_directories(file_.parent_path(), ec);
  if (ec) throw Error(file_.parent_path().string() + ": cannot create the folder (" + ec.message() + ")");
  write_file_atomically(file_, all.dump(2) + "\n");  // our own file: replaced whole, never half-written
}

// ---- choosing ----

BackendChoice choose_backend(const BackendRequest& request) {
  BackendChoice c;
  if (request.kind == BackendKind::Cpu) {
    c.backend = std::make_unique<CpuBackend>();
    return c;
  }
  std::shared_ptr<GpuVerdictStore> store = request.verdicts;
  if (!store) store = std::make_shared<FileVerdictStore>();
  if (request.kind == BackendKind::Vulkan) {  // forced: no veto, but say so when it failed before
    auto vulkan = std::make_unique<gpu::VulkanBackend>(request.device, request.validation);
    c.device_key = device_key(vulkan->context().info());
    if (auto v = find_verdict(store.get(), c.device_key)) {
      c.self_check = SelfCheckRun::Remembered;
      c.self_check_summary = std::string(v->passed ? "passed" : "failed") + " (remembered from " + v->checked + ")";
      if (!v->passed)
        c.warning = quoted(vulkan->context().info()) + " " + failed_before(*v) +
                    "; running on it anyway because it was chosen explicitly (--backend vulkan)";
    }
    c.backend = std::move(vulkan);
    return c;
  }

  // Auto.
  const bool software_ok = request.check_software || env_flag("BERTSCOPE_SELF_CHECK_SOFTWARE");
  const auto devices = gpu::VulkanContext::list_devices();
  const int index = request.device >= 0 ? request.device : gpu::VulkanContext::preferred_device(devices);
  const gpu::VulkanDeviceInfo* device = nullptr;
  for (const auto& d : devices)
    if (d.index == index) device = &d;
  if (device && device->software() && !software_ok && request.device < 0) {
    // Only a software Vulkan device (lavapipe) here: the CPU backend computes the same, several times faster.
    c.note = "only a software Vulkan device (" + device->name + ") exists; the CPU backend is faster, so it runs "
             "the model (ask for Vulkan to use it anyway: --backend vulkan, or the app's Run on)";
    c.backend = std::make_unique<CpuBackend>();
    return c;
  }
  const bool vet = device && (!device->software() || software_ok);
  std::optional<GpuVerdict> verdict;
  if (vet) {
    c.device_key = device_key(*device);
    verdict = find_verdict(store.get(), c.device_key);
    if (verdict && !verdict->passed) {  // known bad: do not even open it
      c.self_check = SelfCheckRun::Remembered;
      c.self_check_summary = "failed (remembered from " + verdict->checked + ")";
      c.warning = quoted(*device) + " " + failed_before(*verdict) + kOnTheCpu;
      c.backend = std::make_unique<CpuBackend>();
      return c;
    }
  }
  std::unique_ptr<gpu::VulkanBackend> vulkan;
  try {
    vulkan = std::make_unique<gpu::VulkanBackend>(request.device, request.validation);
  } catch (const Error& e) {
    c.note = std::string("Vulkan unavailable (") + e.what() + "); using the CPU backend";
    c.backend = std::make_unique<CpuBackend>();
    return c;
  }
  if (vet && verdict) {
    c.self_check = SelfCheckRun::Remembered;
    c.self_check_summary = "passed (remembered from " + verdict->checked + ")";
  } else if (vet) {
    gpu::SelfCheckResult result;
    std::string store_note;
    const GpuVerdict fresh = check_and_remember(*vulkan, c.device_key, store.get(), result, &store_note);
    c.self_check = SelfCheckRun::Ran;
    c.result = result;
    c.self_check_summary = fresh.passed ? "passed" : "failed";
    if (!fresh.passed) {
      c.warning = quoted(*device) + " failed bertscope's GPU self-check: " + fresh.reason + kOnTheCpu;
      c.note = store_note;
      vulkan.reset();
      c.backend = std::make_unique<CpuBackend>();
      return c;
    }
    char summary[160];
    std::snprintf(summary, sizeof summary, "first use of this device and driver: it passed bertscope's GPU self-check "
                  "(largest difference from the CPU %.1e, in %.0f ms)", result.max_error, result.ms);
    c.note = join(summary, store_note);
  }
  c.backend = std::move(vulkan);
  return c;
}

std::unique_ptr<Backend> make_backend(const BackendRequest& request, std::string* note) {
  BackendChoice c = choose_backend(request);
  if (note) *note = join(c.warning, c.note);
  return std::move(c.backend);
}

SelfCheckReport run_device_self_check(int device, bool validation, GpuVerdictStore* store) {
  SelfCheckReport report;
  int index = device;
  if (index < 0) index = gpu::VulkanContext::preferred_device(gpu::VulkanContext::list_devices());
  if (index < 0) throw Error("no Vulkan device found (install a GPU driver or mesa-vulkan-drivers)");
  gpu::VulkanBackend vulkan(index, validation);
  report.device = vulkan.context().info();
  report.key = device_key(report.device);
  report.verdict = check_and_remember(vulkan, report.key, store, report.result, &report.note);
  return report;
}

}  // namespace bertscope
