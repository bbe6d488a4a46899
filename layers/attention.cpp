#include "layers/attention.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "layers/attention_step.h"

namespace sg {

MultiHeadAttention::MultiHeadAttention(int64_t d, int64_t h, double dropout, Generator* dropout_gen,
                                       Generator& init, DType dtype)
    : d_model(d), heads(h), out_proj(d, d, init, dtype), attn_drop_(dropout, dropout_gen) {
  if (h <= 0 || d % h != 0)
    throw std::invalid_argument("attention: heads (" + std::to_string(h) +
                                ") must divide d_model (" + std::to_string(d) + ")");
  // nn.MultiheadAttention: xavier-uniform in_proj, zero biases.
  in_proj_weight = register_parameter("in_proj_weight", Tensor::zeros({3 * d, d}, dtype));
  init_xavier_uniform(in_proj_weight, init);
  in_proj_bias = register_parameter("in_proj_bias", Tensor::zeros({3 * d}, dtype));
  register_module("out_proj", out_proj);
  init_constant(out_proj.bias, 0.0);
  register_module("", attn_drop_);
}

double MultiHeadAttention::scale() const {
  return 1.0 / std::sqrt(static_cast<double>(d_model / heads));
}

Tensor MultiHeadAttention::split_heads(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1);
  return permute(reshape(x, {B, T, heads, d_model / heads}), {0, 2, 1, 3});
}

void MultiHeadAttention::check_input(const Tensor& x, const char* what) const {
  if (x.dim() != 3 || x.size(2) != d_model)
    throw std::invalid_argument(std::string("attention: ") + what + " " + shape_str(x.shape()) +
                                " must be (B, T, " + std::to_string(d_model) + ")");
}

namespace {

// Rows `rows` of x (N, ...) in that order: (rows.size(), ...), a copy.
Tensor gather_rows(const Tensor& x, const std::vector<int64_t>& rows) {
  const int64_t n = x.size(0), row = x.numel() / n;
  Shape s = x.shape();
  s[0] = static_cast<int64_t>(rows.size());
  return reshape(embedding(reshape(x, {n, row}), IntTensor({s[0]}, rows)), s);
}

// The mask rows that query rows read through `rows` (a mask broadcast along dim 0 stays).
IntTensor gather_rows(const IntTensor& m, const std::vector<int64_t>& rows) {
  if (m.shape.empty() || m.shape[0] == 1) return m;
  const int64_t row = m.numel() / m.shape[0];
  std::vector<int64_t> shape = m.shape, data;
  shape[0] = static_cast<int64_t>(rows.size());
  for (int64_t r : rows)
    data.insert(data.end(), m.data.begin() + r * row, m.data.begin() + (r + 1) * row);
  return IntTensor(shape, std::move(data));
}

}  // namespace

// The fused ops (attention, self_attention) compute softmax(scale q k^T, mask) v per head without
// materializing the probabilities as a graph node, and unless `weights` asks for them without
// storing them at all (tile by tile, recomputed in the backward: autograd/ops.h). They serve
// every call, attention dropout included: in training with p > 0 the op drops probabilities
// itself, by a mask hashed from one seed drawn here from the dropout generator per call
// (autograd/attention_dropout.h), so fixed-seed runs repeat and a resumed run, whose generator
// state comes back from the checkpoint, draws the same seeds. `weights` are before dropout.
// PyTorch scales q before the product instead: the same up to rounding.
Tensor MultiHeadAttention::mix(const Heads& h, const AttentionMask& mask, Tensor* weights) const {
  const std::vector<int64_t>* kv_rows = h.kv.rows.empty() ? nullptr : &h.kv.rows;
  // One query position without a gradient or the weights: a step of cached decoding.
  if (!attn_drop_.active() && !mask.causal && !h.qkv.defined() && h.q.size(2) == 1 && !weights &&
      !grad_enabled())
    return out_proj.forward(attention_one_query(h.q, h.kv.k, h.kv.v, mask.dense, scale(), kv_rows));
  if (kv_rows) {  // the rows the queries read, copied out for the whole-sequence ops
    const IntTensor m = mask.dense ? gather_rows(*mask.dense, *kv_rows) : IntTensor();
    return mix(Heads{{}, h.q, {gather_rows(h.kv.k, *kv_rows), gather_rows(h.kv.v, *kv_rows), {}}},
               {mask.dense ? &m : nullptr, mask.causal}, weights);
  }
  AttentionDropout drop;
  if (attn_drop_.active()) drop = {attn_drop_.p, attn_drop_.draw_seed()};
  if (h.qkv.defined())
    return out_proj.forward(self_attention(h.qkv, heads, mask, scale(), weights, {}, drop));
  return out_proj.forward(attention(h.q, h.kv.k, h.kv.v, mask, scale(), weights, {}, drop));
}

// qkv = x W^T + b: q, k and v of every position in one GEMM, (B, T, 3C).
Tensor MultiHeadAttention::forward_self(const Tensor& x, const AttentionMask& mask,
                                        Tensor* weights) const {
  check_input(x, "input");
  return mix(Heads{linear(x, in_proj_weight, in_proj_bias), {}, {}}, mask, weights);
}

Tensor MultiHeadAttention::forward_cross(const Tensor& y, const Tensor& memory,
                                         const IntTensor* mask, Tensor* weights) const {
  check_input(y, "query");
  check_input(memory, "memory");
  if (y.size(0) != memory.size(0))
    throw std::invalid_argument("attention: query " + shape_str(y.shape()) + " and memory " +
                                shape_str(memory.shape()) + " differ in batch size");
  return attend(y, project_kv(memory), mask, weights);
}

// k = src Wk^T + bk, v = src Wv^T + bv: (B, Tk, C) each, split into heads (B, H, Tk, Dh).
KeyValue MultiHeadAttention::project_kv(const Tensor& src) const {
  const int64_t C = d_model;
  const Tensor k =
      linear(src, slice(in_proj_weight, 0, C, 2 * C), slice(in_proj_bias, 0, C, 2 * C));
  const Tensor v =
      linear(src, slice(in_proj_weight, 0, 2 * C, 3 * C), slice(in_proj_bias, 0, 2 * C, 3 * C));
  return {split_heads(k), split_heads(v), {}};
}

// q = query Wq^T + bq, split into heads: (B, H, Tq, Dh).
Tensor MultiHeadAttention::attend(const Tensor& query, const KeyValue& kv, const IntTensor* mask,
                                  Tensor* weights) const {
  const int64_t C = d_model;
  const Tensor q =
      split_heads(linear(query, slice(in_proj_weight, 0, 0, C), slice(in_proj_bias, 0, 0, C)));
  return mix(Heads{{}, q, kv}, mask, weights);
}

IntTensor causal_mask(int64_t T) {
  IntTensor m = IntTensor::zeros({1, 1, T, T});
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = i + 1; j < T; ++j) m.data[i * T + j] = 1;
  return m;
}

IntTensor key_padding_mask(const IntTensor& ids, int64_t pad_id) {
  if (ids.shape.size() != 2) throw std::invalid_argument("key_padding_mask: ids must be (B, T)");
  IntTensor m = IntTensor::zeros({ids.shape[0], 1, 1, ids.shape[1]});
  for (size_t i = 0; i < ids.data.size(); ++i) m.data[i] = ids.data[i] == pad_id;
  return m;
}

IntTensor combine_masks(const IntTensor& a, const IntTensor& b) {
  const Shape s = broadcast_shapes(a.shape, b.shape);
  IntTensor out = IntTensor::zeros(s);
  const int64_t nd = static_cast<int64_t>(s.size());
  // Index into an operand of shape `os` (right-aligned, size-1 dims broadcast).
  auto offset = [&](const Shape& os, const std::vector<int64_t>& idx) {
    int64_t off = 0;
    const int64_t lead = nd - static_cast<int64_t>(os.size());
    for (int64_t d = lead; d < nd; ++d) off = off * os[d - lead] + (os[d - lead] == 1 ? 0 : idx[d]);
    return off;
  };
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < out.numel(); ++i) {
    out.data[i] = (a.data[offset(a.shape, idx)] || b.data[offset(b.shape, idx)]) ? 1 : 0;
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

}  // namespace sg
