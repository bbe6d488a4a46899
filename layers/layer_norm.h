// LayerNorm over the last dim: weight ones, bias zeros, eps 1e-5 (PyTorch's defaults).
#pragma once

#include "layers/module.h"

namespace sg {

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, DType dtype = DType::f32, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;  // x: (..., dim)
  Tensor weight, bias;
  double eps;
};

}  // namespace sg
