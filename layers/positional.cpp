#include "layers/positional.h"

#include <cmath>
#include <stdexcept>

#include "autograd/ops.h"

namespace sg {

std::vector<double> sinusoid_table(int64_t max_len, int64_t dim) {
  // Computed in float32 like the reference (then widened for float64 models).
  std::vector<double> pe(max_len * dim, 0.0);
  const float c = static_cast<float>(-std::log(10000.0) / static_cast<double>(dim));
  for (int64_t i = 0; 2 * i < dim; ++i) {
    const float div = std::exp(static_cast<float>(2 * i) * c);
    for (int64_t t = 0; t < max_len; ++t) {
      const float a = static_cast<float>(t) * div;
      pe[t * dim + 2 * i] = std::sin(a);
      if (2 * i + 1 < dim) pe[t * dim + 2 * i + 1] = std::cos(a);
    }
  }
  return pe;
}

PositionalEncoding::PositionalEncoding(int64_t dim, DType dtype, int64_t max_len)
    : pe_(Tensor::from_vector(sinusoid_table(max_len, dim), {max_len, dim}, dtype)) {}

Tensor PositionalEncoding::forward(const Tensor& x, int64_t start) const {
  const int64_t T = x.size(1);
  if (start + T > max_len())
    throw std::invalid_argument("positional encoding: position " + std::to_string(start + T) +
                                " beyond the maximum length " + std::to_string(max_len()));
  return add(x, slice(pe_, 0, start, start + T));
}

}  // namespace sg
