#include "layers/encoder_layer.h"

#include "autograd/ops.h"

namespace sg {

EncoderLayer::EncoderLayer(const LayerConfig& c, Generator* dg, Generator& init, DType dtype)
    : self_attn(c.d_model, c.heads, c.dropout, dg, init, dtype),
      ff(c.d_model, c.d_ff, c.dropout, dg, init, dtype),
      norm1(c.d_model, dtype),
      norm2(c.d_model, dtype),
      norm_first_(c.norm_first),
      drop1_(c.dropout, dg),
      drop2_(c.dropout, dg) {
  register_module("self_attn", self_attn);
  register_module("", ff);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("", drop1_);
  register_module("", drop2_);
}

Tensor EncoderLayer::forward(const Tensor& x, const IntTensor* mask, Tensor* w) const {
  if (norm_first_) {
    const Tensor n = norm1.forward(x);
    const Tensor h = add(x, drop1_.forward(self_attn.forward(n, n, mask, w)));
    return add(h, drop2_.forward(ff.forward(norm2.forward(h))));
  }
  const Tensor h = norm1.forward(add(x, drop1_.forward(self_attn.forward(x, x, mask, w))));
  return norm2.forward(add(h, drop2_.forward(ff.forward(h))));
}

}  // namespace sg
