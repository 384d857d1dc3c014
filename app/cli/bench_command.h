#pragma once
// `bertscope-cli bench MODEL --tokens N --reps R`: fill-mask latency on an N-token input, the same input as
// hf-oracle's bench_hf.mjs (a repeated sentence with one [MASK]), printed as one JSON line for scripts/bench.sh.
#include "session.h"

namespace bertscope::cli {

// Times `reps` fill-mask calls after one warm-up; prints median and min milliseconds, peak RSS and, on Vulkan, how
// many dispatches, barriers and queue submissions one call records. Returns the exit status.
int bench_fill_mask(Session& session, int tokens, int reps);

// `bench MODEL --sentences FILE`: batch inference throughput, as `evaluate` runs it (batches of `batch_size`
// sentences padded to the batch's longest, truncated at 128 tokens, the classifier's labels), on each line's text
// (the part before a tab, so a labelled TSV works). Times `reps` passes over all of them after one warm-up batch;
// prints sentences per second. Needs a model with a sequence-classification head.
int bench_sentences(Session& session, const std::string& file, int batch_size, int reps);

}  // namespace bertscope::cli
