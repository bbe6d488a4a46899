// Multi-head scaled dot-product attention, one class for self- and cross-attention, with
// PyTorch's nn.MultiheadAttention parameters: in_proj_weight (3C, C) with rows q, k, v,
// in_proj_bias (3C), out_proj (C -> C).
//   self-attention:  forward(x, x, mask)          queries, keys and values from one sequence
//                                                 (one fused GEMM for q, k and v)
//   cross-attention: forward(y, memory, mask)     queries from the decoder (B, Tq, C), keys and
//                                                 values from the encoder memory (B, Tk, C)
// Masks are IntTensors broadcastable to (B, H, Tq, Tk), nonzero = not allowed. A fully masked
// query row attends to nothing: its weights are zeros, never NaN.
#pragma once

#include "layers/dropout.h"
#include "layers/linear.h"

namespace sg {

// Keys and values split into heads: (B, H, Tk, Dh) each.
struct KeyValue {
  Tensor k, v;
};

class MultiHeadAttention : public Module {
 public:
  MultiHeadAttention(int64_t d_model, int64_t heads, double dropout, Generator* dropout_gen,
                     Generator& init, DType dtype = DType::f32);

  // query: (B, Tq, C), kv_src: (B, Tk, C) -> (B, Tq, C). If `weights` is given, it receives the
  // attention probabilities per head, (B, H, Tq, Tk), before dropout.
  Tensor forward(const Tensor& query, const Tensor& kv_src, const IntTensor* mask,
                 Tensor* weights = nullptr) const;

  // The two halves of forward, so a decoder can cache keys and values across steps.
  KeyValue project_kv(const Tensor& kv_src) const;
  Tensor attend(const Tensor& query, const KeyValue& kv, const IntTensor* mask,
                Tensor* weights = nullptr) const;

  int64_t d_model, heads;
  Tensor in_proj_weight, in_proj_bias;
  Linear out_proj;

 private:
  double scale() const;                       // 1 / sqrt(Dh)
  bool drops_probs() const;                   // training with attention dropout p > 0
  Tensor split_heads(const Tensor& x) const;  // (B, T, C) -> (B, H, T, Dh)
  Tensor project_q(const Tensor& query) const;
  Tensor attend_heads(const Tensor& q, const KeyValue& kv, const IntTensor* mask,
                      Tensor* weights) const;
  Dropout attn_drop_;
};

// (1, 1, T, T): position t may not attend to positions after t.
IntTensor causal_mask(int64_t T);
// (B, 1, 1, T) from token ids (B, T): nonzero where the key is padding.
IntTensor key_padding_mask(const IntTensor& ids, int64_t pad_id);
// Elementwise OR of two masks, broadcast against each other.
IntTensor combine_masks(const IntTensor& a, const IntTensor& b);

}  // namespace sg
