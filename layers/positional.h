// Sinusoidal positional encoding, as PositionalEncoding of python/seqgrad_torch:
// pe[t, 2i] = sin(t / 10000^(2i/C)), pe[t, 2i+1] = cos(t / 10000^(2i/C)); a buffer, not a
// parameter.
#pragma once

#include "layers/module.h"

namespace sg {

// The table pe (positions, dim) above, computed in float32 (as the reference), in row-major order.
std::vector<double> sinusoid_table(int64_t positions, int64_t dim);

class PositionalEncoding : public Module {
 public:
  PositionalEncoding(int64_t dim, DType dtype = DType::f32, int64_t max_len = 512);
  // x: (B, T, C) -> x + pe[start : start + T], broadcast over B.
  Tensor forward(const Tensor& x, int64_t start = 0) const;
  int64_t max_len() const { return pe_.shape()[0]; }

 private:
  Tensor pe_;  // (max_len, C)
};

}  // namespace sg
