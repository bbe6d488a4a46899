#include "layers/positional_2d.h"

#include <stdexcept>

#include "autograd/ops.h"
#include "layers/positional.h"

namespace sg {

PositionalEncoding2D::PositionalEncoding2D(int64_t dim, int64_t rows, int64_t cols, DType dtype)
    : rows_(rows), cols_(cols) {
  if (dim < 2 || rows < 1 || cols < 1)
    throw std::invalid_argument(
        "2-D positional encoding: needs dim >= 2 and a grid of at least "
        "1 x 1, got dim " +
        std::to_string(dim) + ", " + std::to_string(rows) + " x " + std::to_string(cols));
  const int64_t dr = dim / 2, dc = dim - dr;
  const std::vector<double> row = sinusoid_table(rows, dr), col = sinusoid_table(cols, dc);
  std::vector<double> pe(static_cast<size_t>(rows * cols * dim));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double* p = pe.data() + (r * cols + c) * dim;
      std::copy(row.begin() + r * dr, row.begin() + (r + 1) * dr, p);
      std::copy(col.begin() + c * dc, col.begin() + (c + 1) * dc, p + dr);
    }
  pe_ = Tensor::from_vector(pe, {rows * cols, dim}, dtype);
}

Tensor PositionalEncoding2D::forward(const Tensor& x) const {
  if (x.dim() != 3 || x.size(1) != rows_ * cols_ || x.size(2) != pe_.size(1))
    throw std::invalid_argument("2-D positional encoding: expected (B, " +
                                std::to_string(rows_ * cols_) + ", " + std::to_string(pe_.size(1)) +
                                "), got " + shape_str(x.shape()));
  return add(x, pe_);
}

}  // namespace sg
