#include "layers/feed_forward.h"

#include "autograd/ops.h"

namespace sg {

FeedForward::FeedForward(int64_t d_model, int64_t ff, double dropout, Generator* dropout_gen,
                         Generator& init, DType dtype)
    : linear1(d_model, ff, init, dtype),
      linear2(ff, d_model, init, dtype),
      drop_(dropout, dropout_gen) {
  register_module("linear1", linear1);
  register_module("", drop_);
  register_module("linear2", linear2);
}

Tensor FeedForward::forward(const Tensor& x) const {
  // linear_relu: relu(linear1(x)) in one op, bit for bit.
  return linear2.forward(drop_.forward(linear_relu(x, linear1.weight, linear1.bias)));
}

}  // namespace sg
