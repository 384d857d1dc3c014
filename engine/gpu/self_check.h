#pragma once
// The GPU self-check: before bertscope trusts a Vulkan device it has never used, it runs a tiny model on it and on
// the CPU backend (the reference) and compares everything. The model is built in memory from seeded random weights
// (2 layers, hidden 48, 4 heads, feed-forward 80, vocabulary 70, 2 sentences of 9 tokens, one padded): its forward
// pass (every inference kernel, each activation), then one call of every training op on its tensors, so a driver
// that miscompiles or mis-synchronises any kernel is caught. It takes milliseconds.
#include <string>

#include "core/backend.h"

namespace bertscope::gpu {

// Largest |gpu - cpu| / max(1, max |cpu|) allowed per output. fp32 kernels that only sum in another order stay
// below 1e-5 here (lavapipe: about 1e-6); a wrong kernel is off by far more than 1e-3.
constexpr double kSelfCheckTolerance = 1e-3;

struct SelfCheckResult {
  bool passed = false;
  std::string reason;        // why it failed: the first output beyond tolerance, or the error the device raised
  bool device_error = false; // failed with VK_ERROR_DEVICE_LOST / VK_ERROR_OUT_OF_DEVICE_MEMORY
  double max_error = 0;      // largest normalised error over every output
  std::string worst_output;  // the output with that error
  int outputs = 0;           // outputs compared
  double ms = 0;             // wall time of both runs
};

// Runs the tiny model on `candidate` and on `reference` and compares. Never throws for the candidate's failures:
// they become a failed result with the reason.
SelfCheckResult run_self_check(Backend& candidate, Backend& reference);

}  // namespace bertscope::gpu
