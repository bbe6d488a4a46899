#include "layers/decoder_layer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "layers/attention_step.h"
#include "layers/sublayer.h"

namespace sg {

namespace {

// Writes x (B, H, 1, Dh) at position len of rows 0..B-1 of buf (N, H, cap, Dh), N >= B (N = B
// when allocating it), first doubling cap if the buffer is full, and returns the view
// (N, H, len + 1, Dh) of the filled positions. Views handed out earlier stay valid: they cover
// positions that are never written again.
Tensor append_position(Tensor& buf, int64_t len, const Tensor& x_in) {
  const Tensor x = x_in.contiguous_data();
  const int64_t B = x.size(0), H = x.size(1), Dh = x.size(3);
  const int64_t N = buf.defined() ? buf.size(0) : B;
  const size_t row = Dh * dtype_size(x.dtype());  // bytes of one position of one head
  int64_t cap = buf.defined() ? buf.size(2) : 0;
  if (len == cap) {
    const int64_t grown = std::max<int64_t>(16, 2 * cap);
    Tensor fresh = Tensor::empty({N, H, grown, Dh}, x.dtype());
    if (len > 0) {
      const Tensor old = buf.contiguous_data();
      parallel_for(N * H, row_grain(len * Dh), [&](int64_t s, int64_t e) {
        for (int64_t r = s; r < e; ++r)
          std::memcpy(static_cast<char*>(fresh.raw_data()) + r * grown * row,
                      static_cast<const char*>(old.raw_data()) + r * cap * row, len * row);
      });
    }
    buf = fresh;
    cap = grown;
  }
  char* dst = static_cast<char*>(buf.raw_data());
  const char* src = static_cast<const char*>(x.raw_data());
  parallel_for(B * H, row_grain(Dh), [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) std::memcpy(dst + (r * cap + len) * row, src + r * row, row);
  });
  return Tensor::view_of(buf, {N, H, len + 1, Dh}, {H * cap * Dh, cap * Dh, Dh, 1}, buf.offset());
}

// Decoding row i's keys and values copied out of the rows self_rows names: (B, H, t, Dh) each,
// the cache as if its rows had been moved.
KeyValue gather_history(const DecoderCache& c) {
  const int64_t N = c.self_kv.k.size(0), H = c.self_kv.k.size(1), T = c.self_kv.k.size(2);
  const int64_t Dh = c.self_kv.k.size(3), B = static_cast<int64_t>(c.self_rows.size()) / T;
  KeyValue out;
  for (auto [from, to] : {std::pair{&c.self_kv.k, &out.k}, std::pair{&c.self_kv.v, &out.v}}) {
    const Tensor all = reshape(from->contiguous_data(), {N * H * T, Dh});
    std::vector<int64_t> at;
    for (int64_t i = 0; i < B; ++i)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t j = 0; j < T; ++j) at.push_back((c.self_rows[i * T + j] * H + h) * T + j);
    *to = reshape(embedding(all, IntTensor({B * H * T}, std::move(at))), {B, H, T, Dh});
  }
  return out;
}

}  // namespace

DecoderLayer::DecoderLayer(const LayerConfig& c, Generator* dg, Generator& init, DType dtype)
    : self_attn(c.d_model, c.heads, c.dropout, dg, init, dtype),
      multihead_attn(c.d_model, c.heads, c.dropout, dg, init, dtype),
      ff(c.d_model, c.ff, c.dropout, dg, init, dtype),
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

Tensor DecoderLayer::blocks(const Tensor& y, const SelfBlock& self_block,
                            const Tensor& cross_memory, const KeyValue* cross_kv,
                            const IntTensor* mem_mask, DecoderWeights* w) const {
  Tensor* wc = w ? &w->cross_attn : nullptr;
  Tensor h = sublayer(y, norm_first_, norm1, drop1_, self_block);
  h = sublayer(h, norm_first_, norm2, drop2_, [&](const Tensor& in) {
    return cross_kv ? multihead_attn.attend(in, *cross_kv, mem_mask, wc)
                    : multihead_attn.forward_cross(in, cross_memory, mem_mask, wc);
  });
  return sublayer(h, norm_first_, norm3, drop3_, [&](const Tensor& in) { return ff.forward(in); });
}

Tensor DecoderLayer::forward(const Tensor& y, const Tensor& memory, const AttentionMask& self_mask,
                             const IntTensor* mem_mask, DecoderWeights* w) const {
  Tensor* ws = w ? &w->self_attn : nullptr;
  return blocks(
      y, [&](const Tensor& in) { return self_attn.forward_self(in, self_mask, ws); }, memory,
      nullptr, mem_mask, w);
}

void DecoderLayer::start_cache(DecoderCache& cache, const Tensor& memory) const {
  cache.self_kv = KeyValue{};
  cache.self_buf = KeyValue{};
  cache.self_rows.clear();
  cache.cross_kv = multihead_attn.project_kv(memory);
}

// The new position's keys and values join the cache, and it attends to every cached position
// and itself: nothing later exists yet, so the causal mask is implicit.
Tensor DecoderLayer::step(const Tensor& y_t, DecoderCache& cache, const IntTensor* mem_mask,
                          DecoderWeights* w) const {
  if (grad_enabled())
    throw std::logic_error("DecoderLayer::step: decoding runs without gradients (NoGradGuard)");
  Tensor* ws = w ? &w->self_attn : nullptr;
  const SelfBlock cached_self = [&](const Tensor& in) {
    const KeyValue kv_t = self_attn.project_kv(in);  // (B, H, 1, Dh)
    const int64_t len = cache.self_kv.k.defined() ? cache.self_kv.k.size(2) : 0;
    // A full buffer with more rows than are decoding (sources that finished left the batch):
    // before it doubles, the decoding rows' histories move into a buffer of B rows, so the cache
    // grows with the rows still decoding, not with the batch they started in.
    if (!cache.self_rows.empty() && len == cache.self_buf.k.size(2) &&
        in.size(0) < cache.self_buf.k.size(0)) {
      cache.self_buf = gather_history(cache);  // (B, H, len, Dh), row i's history in row i
      cache.self_rows.clear();
    }
    cache.self_kv.k = append_position(cache.self_buf.k, len, kv_t.k);
    cache.self_kv.v = append_position(cache.self_buf.v, len, kv_t.v);
    if (cache.self_rows.empty()) return self_attn.attend(in, cache.self_kv, nullptr, ws);
    // Reordered rows: row i's new position is in row i, its earlier ones where self_rows says.
    const int64_t B = in.size(0);
    std::vector<int64_t> rows(B * (len + 1));
    for (int64_t i = 0; i < B; ++i) {
      std::copy_n(cache.self_rows.begin() + i * len, len, rows.begin() + i * (len + 1));
      rows[i * (len + 1) + len] = i;
    }
    cache.self_rows = std::move(rows);
    if (ws) return self_attn.attend(in, gather_history(cache), nullptr, ws);
    // attend's one-query path (layers/attention.cpp), reading the keys through self_rows.
    const int64_t C = self_attn.d_model, H = self_attn.heads;
    const Tensor q = linear(in, slice(self_attn.in_proj_weight, 0, 0, C),
                            slice(self_attn.in_proj_bias, 0, 0, C));  // (B, 1, C)
    const Tensor y = attention_one_query(
        permute(reshape(q, {B, 1, H, C / H}), {0, 2, 1, 3}), cache.self_kv.k, cache.self_kv.v,
        nullptr, 1.0 / std::sqrt(static_cast<double>(C / H)), nullptr, &cache.self_rows);
    return self_attn.out_proj.forward(y);
  };
  return blocks(y_t, cached_self, Tensor(), &cache.cross_kv, mem_mask, w);
}

}  // namespace sg
