#pragma once
// Where a model runs. `cpu` and `vulkan` are what they say. `auto` prefers a hardware Vulkan GPU, but trusts one
// only after it has proved itself: the first time auto picks a device (keyed by its name, vendor and device ids,
// driver version, and bertscope's kernels), it runs the GPU self-check (gpu/self_check.h) against the CPU backend
// and remembers the verdict in a GpuVerdictStore. A device that failed is not used by auto again: the CPU runs
// instead and the choice carries a warning saying why. `vulkan` uses the device regardless, with a warning when it
// failed before. Software Vulkan devices (lavapipe) are not checked (auto prefers the CPU backend to them) unless
// a test asks (BackendRequest::check_software).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/backend.h"
#include "gpu/self_check.h"
#include "gpu/vulkan_context.h"

namespace bertscope {

enum class BackendKind { Auto, Vulkan, Cpu };

BackendKind parse_backend_kind(const std::string& name);  // "auto" | "vulkan" | "cpu"; throws on anything else

// What the self-check concluded about one device + driver.
struct GpuVerdict {
  bool passed = false;
  std::string reason;   // why it failed; empty when it passed
  std::string checked;  // when, "YYYY-MM-DD HH:MM UTC"
};

// Where verdicts are remembered, by device key. find/remember may be called from any thread.
class GpuVerdictStore {
 public:
  virtual ~GpuVerdictStore() = default;
  virtual std::optional<GpuVerdict> find(const std::string& device_key) = 0;
  virtual void remember(const std::string& device_key, const GpuVerdict& verdict) = 0;  // throws Error on failure
};

// The command line's store: one JSON object in a file of bertscope's own, written atomically. The app keeps its
// verdicts in QSettings instead (app/gui/settings_verdict_store.h).
class FileVerdictStore final : public GpuVerdictStore {
 public:
  explicit FileVerdictStore(std::filesystem::path file = default_file());
  // $XDG_CONFIG_HOME/bertscope/gpu-self-check.json, else ~/.config/bertscope/...; empty without either variable
  // (then nothing is remembered and the check runs every time).
  static std::filesystem::path default_file();
  const std::filesystem::path& file() const { return file_; }
  std::optional<GpuVerdict> find(const std::string& device_key) override;
  void remember(const std::string& device_key, const GpuVerdict& verdict) override;

 private:
  std::filesystem::path file_;
};

struct BackendRequest {
  BackendKind kind = BackendKind::Auto;
  int device = -1;          // Vulkan device index; -1: the best one
  bool validation = false;  // Vulkan validation layers (tests)
  // Tests: auto also takes a software Vulkan device (lavapipe) and self-checks it as if it were a GPU, so the
  // check is testable without one. The environment variable BERTSCOPE_SELF_CHECK_SOFTWARE=1 does the same.
  bool check_software = false;
  std::shared_ptr<GpuVerdictStore> verdicts;  // null: a FileVerdictStore at its default place
};

enum class SelfCheckRun { NotNeeded, Ran, Remembered };

struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string note;     // why this backend, for the curious (e.g. "only a software Vulkan device exists ...")
  std::string warning;  // what the user must see: a GPU not used because it failed its self-check, or used anyway
  SelfCheckRun self_check = SelfCheckRun::NotNeeded;
  std::string self_check_summary;  // "passed", "failed", "passed (remembered from ...)"...; empty when not needed
  std::string device_key;          // the Vulkan device considered, if any
  std::optional<gpu::SelfCheckResult> result;  // when the check ran now
};

BackendChoice choose_backend(const BackendRequest& request);
// choose_backend, for callers that only need the backend; `note` receives the warning and the note.
std::unique_ptr<Backend> make_backend(const BackendRequest& request, std::string* note = nullptr);

// The key a verdict is remembered under: name, vendor and device ids, driver version, kernel fingerprint.
std::string device_key(const gpu::VulkanDeviceInfo& device);

// Runs the self-check on Vulkan device `device` (-1: the one auto would consider, software devices included) now,
// whatever is remembered, and remembers the new verdict in `store` (when not null).
struct SelfCheckReport {
  gpu::VulkanDeviceInfo device;
  std::string key;
  GpuVerdict verdict;
  gpu::SelfCheckResult result;
  std::string note;  // e.g. the store could not be written
};
SelfCheckReport run_device_self_check(int device, bool validation, GpuVerdictStore* store);

}  // namespace bertscope
