// 2-D sinusoidal positional encoding of an image's patch grid (as the fixed 2-D sin-cos
// embeddings of MAE): the first C/2 channels (rounded down) of patch (r, c) hold the 1-D
// sinusoidal encoding of the row r over C/2 channels, the other channels that of the column c
// (layers/positional.h's formula, each half with its own width). Patches are in row-major order,
// position r * cols + c. A buffer, not a parameter.
#pragma once

#include "layers/module.h"

namespace sg {

class PositionalEncoding2D : public Module {
 public:
  PositionalEncoding2D(int64_t dim, int64_t rows, int64_t cols, DType dtype = DType::f32);
  // x: (B, rows * cols, C) -> x + pe, broadcast over B.
  Tensor forward(const Tensor& x) const;
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  const Tensor& table() const { return pe_; }  // (rows * cols, C)

 private:
  int64_t rows_, cols_;
  Tensor pe_;
};

}  // namespace sg
