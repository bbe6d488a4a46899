#include "layers/decoder_layer.h"

#include "autograd/ops.h"

namespace sg {

DecoderLayer::DecoderLayer(const LayerConfig& c, Generator* dg, Generator& init, DType dtype)
    : self_attn(c.d_model, c.heads, c.dropout, dg, init, dtype),
      multihead_attn(c.d_model, c.heads, c.dropout, dg, init, dtype),
      ff(c.d_model, c.d_ff, c.dropout, dg, init, dtype),
      norm1(c.d_model, dtype),
      norm2(c.d_model, dtype),
      norm3(c.d_model, dtype),
      norm_first_(c.norm_first),
      drop1_(c.dropout, dg),
      drop2_(c.dropout, dg),
      drop3_(c.dropout, dg) {
  register_module("self_attn", self_attn);
  register_module("multihead_attn", multihead_attn);
  register_module("", ff);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("norm3", norm3);
  register_module("", drop1_);
  register_module("", drop2_);
  register_module("", drop3_);
}

Tensor DecoderLayer::forward(const Tensor& y, const Tensor& memory, const IntTensor* self_mask,
                             const IntTensor* mem_mask, DecoderWeights* w) const {
  Tensor* ws = w ? &w->self_attn : nullptr;
  Tensor* wc = w ? &w->cross_attn : nullptr;
  if (norm_first_) {
    const Tensor n1 = norm1.forward(y);
    Tensor h = add(y, drop1_.forward(self_attn.forward(n1, n1, self_mask, ws)));
    h = add(h, drop2_.forward(multihead_attn.forward(norm2.forward(h), memory, mem_mask, wc)));
    return add(h, drop3_.forward(ff.forward(norm3.forward(h))));
  }
  Tensor h = norm1.forward(add(y, drop1_.forward(self_attn.forward(y, y, self_mask, ws))));
  h = norm2.forward(add(h, drop2_.forward(multihead_attn.forward(h, memory, mem_mask, wc))));
  return norm3.forward(add(h, drop3_.forward(ff.forward(h))));
}

void DecoderLayer::start_cache(DecoderCache& cache, const Tensor& memory) const {
  cache.self_kv = KeyValue{};
  cache.cross_kv = multihead_attn.project_kv(memory);
}

Tensor DecoderLayer::step(const Tensor& y_t, DecoderCache& cache, const IntTensor* mem_mask,
                          DecoderWeights* w) const {
  Tensor* ws = w ? &w->self_attn : nullptr;
  Tensor* wc = w ? &w->cross_attn : nullptr;
  const Tensor sa_in = norm_first_ ? norm1.forward(y_t) : y_t;
  const KeyValue kv_t = self_attn.project_kv(sa_in);  // (B, H, 1, Dh)
  if (cache.self_kv.k.defined()) {
    cache.self_kv.k = concat({cache.self_kv.k, kv_t.k}, 2);
    cache.self_kv.v = concat({cache.self_kv.v, kv_t.v}, 2);
  } else {
    cache.self_kv = kv_t;
  }
  // The new position attends to every cached position and itself: nothing later exists yet, so
  // the causal mask is implicit.
  if (norm_first_) {
    Tensor h = add(y_t, drop1_.forward(self_attn.attend(sa_in, cache.self_kv, nullptr, ws)));
    h = add(h,
            drop2_.forward(multihead_attn.attend(norm2.forward(h), cache.cross_kv, mem_mask, wc)));
    return add(h, drop3_.forward(ff.forward(norm3.forward(h))));
  }
  Tensor h =
      norm1.forward(add(y_t, drop1_.forward(self_attn.attend(y_t, cache.self_kv, nullptr, ws))));
  h = norm2.forward(add(h, drop2_.forward(multihead_attn.attend(h, cache.cross_kv, mem_mask, wc))));
  return norm3.forward(add(h, drop3_.forward(ff.forward(h))));
}

}  // namespace sg
