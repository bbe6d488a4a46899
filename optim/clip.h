// Gradient clipping by global L2 norm, torch.nn.utils.clip_grad_norm_(norm_type=2) semantics
// and float32 arithmetic (torch 1.13 with ATEN_CPU_CAPABILITY=default, bit for bit):
//   n_i   = ||g_i||_2 of each defined gradient (8-lane float32 accumulation, as ATen's norm)
//   total = ||(n_1, ..., n_P)||_2 (same kernel)
//   coef  = min(float(max_norm) * (1 / (total + 1e-6)), 1);  g_i *= coef
// Unlike torch, a non-finite total (inf/NaN gradients, or squares overflowing) never scales the
// gradients: it is reported (or thrown, per NonFinite) and the gradients are left untouched.
// Parameters without a gradient are skipped; with none at all the total is 0.
#pragma once

#include <string>

#include "optim/optimizer.h"

namespace sg {

enum class NonFinite { report, error };
// scale: multiply the gradients by coef now (torch). defer: leave them and return coef for
// Optimizer::step(coef), which applies it in its own pass, bit for bit the same.
enum class ClipApply { scale, defer };

struct ClipResult {
  float total_norm = 0;         // what torch returns (float32)
  bool finite = true;           // false: gradients were not scaled
  bool clipped = false;         // true when the gradients were scaled down (coef < 1)
  float coef = 1;               // the factor applied (scale) or to apply (defer)
  std::string nonfinite_param;  // first parameter whose own gradient norm is non-finite, if any
};

// With NonFinite::error, a non-finite total throws std::runtime_error naming the parameter.
ClipResult clip_grad_norm(const NamedParams& params, double max_norm,
                          NonFinite on_nonfinite = NonFinite::report,
                          ClipApply apply = ClipApply::scale);

// ||x||_2 of n float32 values in ATen's order: 8 lane accumulators acc[j] += x*x over the
// largest multiple of 8, lanes summed left to right, the tail added sequentially, sqrt in float.
float norm2_f32(const float* x, int64_t n);

}  // namespace sg
