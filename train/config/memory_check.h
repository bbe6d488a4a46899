// Refuses, with one clear line, a model that would not fit in memory, before anything is
// allocated: a `--d-model 1000000` run otherwise spends minutes filling tables and then dies in
// std::bad_alloc or at the hands of the kernel's OOM killer.
//
// The estimate covers what is allocated up front and lives for the whole run: the parameters
// (float32), and when training their gradients and the optimizer's per-parameter buffers (Adam
// and AdamW: 2, SGD with momentum: 1), plus the positional-encoding table (built in float64, kept
// in float32). Activations are not included: they depend on the batch's actual lengths.
#pragma once

#include <cstdint>

#include "train/config/config.h"

namespace sg {

struct ModelMemory {
  double parameters = 0;  // number of parameters
  double bytes = 0;       // estimated bytes of everything listed above
};

// Parameter count and bytes of the model a Config describes (in double: never overflows).
// Throws RunError if a size is not positive (a hostile checkpoint's config).
ModelMemory estimate_model_memory(const Config& c, int64_t src_vocab, int64_t tgt_vocab,
                                  bool training);

// MemAvailable of /proc/meminfo in bytes, or a negative value when it cannot be read.
double available_memory_bytes();

// Throws RunError naming the size flags when the estimate exceeds `available` bytes
// (negative: MemAvailable; when that is unknown nothing is refused).
void check_model_fits(const Config& c, int64_t src_vocab, int64_t tgt_vocab, bool training,
                      double available = -1);

}  // namespace sg
