#include "core/test_hooks.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace bertscope::test_hooks {

namespace {
// True the N-th time `name` is reached, for a NAME[:N] spec (each variable counts its own, in `reached`).
bool reached_nth(const char* spec_text, const char* name, int& reached, std::mutex& mutex) {
  const std::string spec = spec_text;
  const size_t colon = spec.find(':');
  if (spec.substr(0, colon) != name) return false;
  const int nth = colon == std::string::npos ? 1 : std::atoi(spec.c_str() + colon + 1);
  std::lock_guard<std::mutex> lock(mutex);
  return ++reached == nth;
}
}  // namespace

void pause_point(const char* name) {
  static const char* const interrupt = std::getenv("BERTSCOPE_TEST_INTERRUPT_AT");
  if (interrupt) {
    static std::mutex mutex;
    static int reached = 0;
    if (reached_nth(interrupt, name, reached, mutex)) {
      std::fprintf(stderr, "bertscope: test interrupt at %s\n", name);
      std::raise(SIGINT);  // as Ctrl+C there: the program's own handler, if any, runs
    }
  }
  static const char* const wanted = std::getenv("BERTSCOPE_TEST_PAUSE_AT");
  if (!wanted) return;
  static std::mutex mutex;
  static int reached = 0;
  if (!reached_nth(wanted, name, reached, mutex)) return;
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
