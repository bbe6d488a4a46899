#include "layers/feed_forward.h"

#include "autograd/ops.h"

namespace sg {

FeedForward::FeedForward(int64_t d_model, int64_t d_ff, double dropout, Generator* dropout_gen,
                         Generator& init, DType dtype)
    : linear1(d_model, d_ff, init, dtype),
      linear2(d_ff, d_model, init, dtype),
      drop_(dropout, dropout_gen) {
  register_module("linear1", linear1);
  register_module("", drop_);
  register_module("linear2", linear2);
}

Tensor FeedForward::forward(const Tensor& x) const {
  return linear2.forward(drop_.forward(relu(linear1.forward(x))));
}

}  // namespace sg
