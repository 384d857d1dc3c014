#pragma once
// The app's GPU self-check verdicts (see backend_choice.h), kept in QSettings with the rest of its settings:
// gpuSelfCheck/<SHA-1 of the device key>/{device, passed, reason, checked}. Safe to use from any thread (each call
// opens its own QSettings).
#include "backend_choice.h"

namespace bertscope::gui {

class SettingsVerdictStore final : public GpuVerdictStore {
 public:
  std::optional<GpuVerdict> find(const std::string& device_key) override;
  void remember(const std::string& device_key, const GpuVerdict& verdict) override;
};

}  // namespace bertscope::gui
