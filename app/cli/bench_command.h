#pragma once
// `bertscope-cli bench MODEL --tokens N --reps R`: fill-mask latency on an N-token input, the same input as
// hf-oracle's bench_hf.mjs (a repeated sentence with one [MASK]), printed as one JSON line for scripts/bench.sh.
#include "session.h"

namespace bertscope::cli {

// Times `reps` fill-mask calls after one warm-up; prints median and min milliseconds, peak RSS and, on Vulkan, how
// many dispatches, barriers and queue submissions one call records. Returns the exit status.
int bench_fill_mask(Session& session, int tokens, int reps);

}  // namespace bertscope::cli
