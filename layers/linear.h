// Linear: y = x W^T + b, W (out, in), b (out); PyTorch's default init (kaiming-uniform with
// a = sqrt(5), which is U(-1/sqrt(in), 1/sqrt(in)), and the same bound for the bias).
#pragma once

#include "layers/module.h"

namespace sg {

class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, Generator& g, DType dtype = DType::f32, bool bias = true);
  Tensor forward(const Tensor& x) const;  // x: (..., in) -> (..., out)
  // Uses `w` (out, in) as the weight from now on (Module::tie_parameter); the bias stays.
  void tie_weight(const Tensor& w);
  Tensor weight, bias;
};

}  // namespace sg
