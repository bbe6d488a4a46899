#include "layers/attention.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/ops.h"

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

bool MultiHeadAttention::drops_probs() const {
  return attn_drop_.is_training() && attn_drop_.p > 0;
}

Tensor MultiHeadAttention::split_heads(const Tensor& x) const {
  const int64_t B = x.size(0), T = x.size(1);
  return permute(reshape(x, {B, T, heads, d_model / heads}), {0, 2, 1, 3});
}

// k = src Wk^T + bk, v = src Wv^T + bv: (B, Tk, C) each, split into heads (B, H, Tk, Dh).
KeyValue MultiHeadAttention::project_kv(const Tensor& kv_src) const {
  const int64_t C = d_model;
  const Tensor k =
      linear(kv_src, slice(in_proj_weight, 0, C, 2 * C), slice(in_proj_bias, 0, C, 2 * C));
  const Tensor v =
      linear(kv_src, slice(in_proj_weight, 0, 2 * C, 3 * C), slice(in_proj_bias, 0, 2 * C, 3 * C));
  return {split_heads(k), split_heads(v)};
}

// q = query Wq^T + bq, split into heads: (B, H, Tq, Dh).
Tensor MultiHeadAttention::project_q(const Tensor& query) const {
  const int64_t C = d_model;
  return split_heads(linear(query, slice(in_proj_weight, 0, 0, C), slice(in_proj_bias, 0, 0, C)));
}

// softmax(q k^T / sqrt(Dh) + mask) v, merged back to (B, Tq, C) and projected by out_proj. The
// scale, mask and softmax are one fused op (PyTorch scales q before the product instead: the same
// up to rounding).
Tensor MultiHeadAttention::attend_heads(const Tensor& q, const KeyValue& kv, const IntTensor* mask,
                                        Tensor* weights) const {
  const int64_t B = q.size(0), Tq = q.size(2);
  // Without dropout on the probabilities, the fused op does the whole product.
  if (!drops_probs()) return out_proj.forward(attention(q, kv.k, kv.v, mask, scale(), weights));
  const Tensor scores = matmul(q, transpose(kv.k, -2, -1));  // (B, H, Tq, Tk)
  Tensor p = masked_softmax(scores, mask, scale());
  if (weights) *weights = p.detach();
  p = attn_drop_.forward(p);
  const Tensor ctx = matmul(p, kv.v);  // (B, H, Tq, Dh)
  return out_proj.forward(reshape(permute(ctx, {0, 2, 1, 3}), {B, Tq, d_model}));
}

Tensor MultiHeadAttention::attend(const Tensor& query, const KeyValue& kv, const IntTensor* mask,
                                  Tensor* weights) const {
  return attend_heads(project_q(query), kv, mask, weights);
}

Tensor MultiHeadAttention::forward(const Tensor& query, const Tensor& kv_src, const IntTensor* mask,
                                   Tensor* weights) const {
  if (query.dim() != 3 || kv_src.dim() != 3 || query.size(2) != d_model ||
      kv_src.size(2) != d_model || query.size(0) != kv_src.size(0))
    throw std::invalid_argument("attention: query " + shape_str(query.shape()) + " and keys " +
                                shape_str(kv_src.shape()) + " must be (B, T, " +
                                std::to_string(d_model) + ")");
  if (!query.same(kv_src)) return attend(query, project_kv(kv_src), mask, weights);
  // Self-attention: q, k and v in one GEMM, (B, T, 3C); the fused op reads its three column
  // blocks (with dropout on the probabilities, the composed ops read them as views).
  const int64_t C = d_model;
  const Tensor qkv = linear(query, in_proj_weight, in_proj_bias);
  if (!drops_probs()) return out_proj.forward(self_attention(qkv, heads, mask, scale(), weights));
  const Tensor q = split_heads(slice(qkv, 2, 0, C));
  const KeyValue kv{split_heads(slice(qkv, 2, C, 2 * C)), split_heads(slice(qkv, 2, 2 * C, 3 * C))};
  return attend_heads(q, kv, mask, weights);
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
