#include "core/test_hooks.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace bertscope::test_hooks {

void pause_point(const char* name) {
  static const char* const wanted = std::getenv("BERTSCOPE_TEST_PAUSE_AT");
  if (!wanted) return;
  static std::mutex mutex;
  static int reached = 0;
  const std::string spec = wanted;
  const size_t colon = spec.find(':');
  if (spec.substr(0, colon) != name) return;
  const int nth = colon == std::string::npos ? 1 : std::atoi(spec.c_str() + colon + 1);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (++reached != nth) return;
  }
  std::fprintf(stderr, "bertscope: test pause at %s\n", name);
  std::fflush(stderr);
  for (unsigned left = 60; left > 0;) left = sleep(left);  // a signal handler's run ends sleep() early: sleep on
}

bool rename_exchange_disabled() {
  static const bool disabled = [] {
    const char* v = std::getenv("BERTSCOPE_TEST_NO_RENAME_EXCHANGE");
    return v && std::strcmp(v, "0") != 0 && *v;
  }();
  return disabled;
}

}  // namespace bertscope::test_hooks
