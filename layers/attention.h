// Multi-head scaled dot-product attention, one class for self- and cross-attention, with
// PyTorch's nn.MultiheadAttention parameters: in_proj_weight (3C, C) with rows q, k, v,
// in_proj_bias (3C), out_proj (C -> C). The two uses are two named entry points:
//   forward_self(x, mask)             self-attention: one sequence x (B, T, C) supplies the
//                                     queries, keys and values (one GEMM for q, k and v), so
//                                     every position relates to the others of its own sequence
//   forward_cross(y, memory, mask)    cross-attention: the queries of one sequence y (B, Tq, C)
//                                     read the keys and values of another, memory (B, Tk, C):
//                                     the decoder reading the encoder
// and, for cached decoding, their two halves: project_kv(src) once, then attend(query, kv).
// Masks are IntTensors broadcastable to (B, H, Tq, Tk), nonzero = not allowed. A fully masked
// query row attends to nothing: its weights are zeros, never NaN.
#pragma once

#include <vector>

#include "autograd/ops.h"
#include "layers/dropout.h"
#include "layers/linear.h"

namespace sg {

// Keys and values split into heads: (B, H, Tk, Dh) each.
struct KeyValue {
  Tensor k, v;
  // Cached decoding: query row b reads row rows[b] of k, v and the mask, so that the beam
  // hypotheses of one source share its one copy of them; empty: row b.
  std::vector<int64_t> rows;
};

class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(int64_t d_model, int64_t heads, double dropout, Generator* dropout_gen,
                     Generator& init, DType dtype = DType::f32);

  // x: (B, T, C) -> (B, T, C). If `weights` is given, it receives the attention probabilities
  // per head, (B, H, T, T), before dropout.
  // The mask may be causal by flag (AttentionMask, autograd/ops.h): no (T, T) tensor.
  Tensor forward_self(const Tensor& x, const AttentionMask& mask, Tensor* weights = nullptr) const;
  // y: (B, Tq, C), memory: (B, Tk, C) -> (B, Tq, C); weights (B, H, Tq, Tk).
  Tensor forward_cross(const Tensor& y, const Tensor& memory, const IntTensor* mask,
                       Tensor* weights = nullptr) const;

  // The two halves of forward_cross, so a decoder can cache keys and values across steps:
  // src (B, Tk, C) -> keys and values (B, H, Tk, Dh); query (B, Tq, C) -> (B, Tq, C).
  KeyValue project_kv(const Tensor& src) const;
  Tensor attend(const Tensor& query, const KeyValue& kv, const IntTensor* mask,
                Tensor* weights = nullptr) const;

  int64_t d_model, heads;
  Tensor in_proj_weight, in_proj_bias;
  Linear out_proj;

 private:
  // The heads to mix: either qkv, one (B, T, 3C) projection holding q, k and v as column
  // blocks (self-attention), or q (B, H, Tq, Dh) with kv (cross-attention, cached decoding).
  struct Heads {
    Tensor qkv;
    Tensor q;
    KeyValue kv;
  };
  double scale() const;                       // 1 / sqrt(Dh)
  Tensor split_heads(const Tensor& x) const;  // (B, T, C) -> (B, H, T, Dh)
  void check_input(const Tensor& x, const char* what) const;
  // dropout(softmax(q k^T / sqrt(Dh) + mask)) v per head, merged back to (B, Tq, C) and
  // projected by out_proj: the one place that calls the fused attention ops.
  Tensor mix(const Heads& h, const AttentionMask& mask, Tensor* weights) const;
  Dropout attn_drop_;
};

// (1, 1, T, T): position t may not attend to positions after t.
IntTensor causal_mask(int64_t T);
// (B, 1, 1, T) from token ids (B, T): nonzero where the key is padding.
IntTensor key_padding_mask(const IntTensor& ids, int64_t pad_id);
// Elementwise OR of two masks, broadcast against each other.
IntTensor combine_masks(const IntTensor& a, const IntTensor& b);

}  // namespace sg
