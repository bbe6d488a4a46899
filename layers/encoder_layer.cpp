#include "layers/encoder_layer.h"

#include "layers/sublayer.h"

namespace sg {

EncoderLayer::EncoderLayer(const LayerConfig& c, Generator* dg, Generator& init, DType dtype)
    : self_attn(c.d_model, c.heads, c.dropout, dg, init, dtype),
      ff(c.d_model, c.ff, c.dropout, dg, init, dtype),
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
  const Tensor h = sublayer(x, norm_first_, norm1, drop1_,
                            [&](const Tensor& in) { return self_attn.forward_self(in, mask, w); });
  return sublayer(h, norm_first_, norm2, drop2_, [&](const Tensor& in) { return ff.forward(in); });
}

}  // namespace sg
