#include "layers/linear.h"

#include <cmath>

#include "autograd/ops.h"

namespace sg {

Linear::Linear(int64_t in, int64_t out, Generator& g, DType dtype, bool with_bias) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  weight = register_parameter("weight", Tensor::zeros({out, in}, dtype));
  init_uniform(weight, g, bound);
  if (with_bias) {
    bias = register_parameter("bias", Tensor::zeros({out}, dtype));
    init_uniform(bias, g, bound);
  }
}

void Linear::tie_weight(const Tensor& w) {
  tie_parameter("weight", w);
  weight = w;
}

Tensor Linear::forward(const Tensor& x) const {
  return linear(x, weight, bias);
}

}  // namespace sg
