// What a run folder (`seqgrad train --out DIR`) holds, read for the report:
//   metrics.jsonl   one JSON object per line, appended by the training loop (docs/cli.md):
//                   {"event":"train","step","epoch","loss","lr","tokens_per_s",...} every
//                   --log-every steps, {"event":"eval","step","loss","token_acc",...,
//                   "elapsed_s"} per evaluation, {"event":"done","step","checkpoint"} at the end
//   ckpt-<step>.h5  numbered checkpoints, best.h5 (lowest validation loss), latest.h5 (a symlink
//                   to the newest numbered one)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg {

// One logged quantity against steps, one point per step, steps increasing.
struct Series {
  std::string name;  // the JSON field, e.g. "loss"
  std::vector<int64_t> steps;
  std::vector<double> values;
};

struct RunMetrics {
  // Every numeric field of the train records (but step and epoch) and of the eval records (but
  // step and elapsed_s), in the order first seen.
  std::vector<Series> train, eval;
  int64_t last_step = 0;  // of the newest record
  bool done = false;      // the newest record is the end of a run
  double elapsed_s = -1;  // wall time of the run at its newest evaluation; -1: none

  const Series* find(const std::vector<Series>& of, const std::string& name) const;
};

// Reads metrics.jsonl. A record that does not come after the one before it (a resumed run
// repeats the steps after its checkpoint; a new run starts again at its first step) begins a new
// timeline: the points of its step and later are dropped from every series, so each series
// keeps one point per step, the newest. A field that is not a number (a NaN is written as null)
// is no point. A malformed line is a std::runtime_error "PATH:LINE: ..." except a last line
// without its newline (an append cut short), which is ignored. No file: empty metrics.
RunMetrics read_metrics(const std::string& path);

struct CheckpointEntry {
  std::string file;   // name inside the run folder
  int64_t step = -1;  // -1 when unreadable
  std::string error;  // why it could not be read; empty if it could
  uintmax_t bytes = 0;
  bool best = false;      // best.h5, and the numbered checkpoint of best.h5's step
  bool latest = false;    // the one latest.h5 points to
  nlohmann::json config;  // its configuration; null when unreadable
};

// The numbered checkpoints by step, then best.h5 (and latest.h5 if it is a file, not a link).
std::vector<CheckpointEntry> list_checkpoints(const std::string& dir);
// The configuration of the newest readable checkpoint (latest first, then best.h5, then the
// highest step), or null.
nlohmann::json run_config(const std::vector<CheckpointEntry>& checkpoints);

}  // namespace sg
