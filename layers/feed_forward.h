// Position-wise feed-forward block: linear2(dropout(relu(linear1(x)))), (B, T, C) -> (B, T, C).
// Registered in its layer's namespace, so the names stay PyTorch's `linear1.*`, `linear2.*`.
#pragma once

#include "layers/dropout.h"
#include "layers/linear.h"

namespace sg {

class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, int64_t ff, double dropout, Generator* dropout_gen, Generator& init,
              DType dtype = DType::f32);
  Tensor forward(const Tensor& x) const;
  Linear linear1, linear2;

 private:
  Dropout drop_;
};

}  // namespace sg
