#include "layers/layer_norm.h"

#include "autograd/ops.h"

namespace sg {

LayerNorm::LayerNorm(int64_t dim, DType dtype, double eps_) : eps(eps_) {
  weight = register_parameter("weight", Tensor::full({dim}, 1.0, dtype));
  bias = register_parameter("bias", Tensor::zeros({dim}, dtype));
}

Tensor LayerNorm::forward(const Tensor& x) const {
  return layer_norm(x, weight, bias, eps);
}

}  // namespace sg
