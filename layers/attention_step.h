// Attention of a single query position per row, the shape of every step of cached decoding:
// the per-head products are a dot product per key and a weighted sum of Tk value rows, too small
// for a GEMM call each (B * H of them per layer and step), so this computes them directly.
// Inference only: it records nothing and refuses inputs that need a gradient.
#pragma once

#include <vector>

#include "autograd/tensor.h"

namespace sg {

// q (B, H, 1, Dh), k and v (Bk, H, Tk, Dh), any strides with a unit last-dim stride (views of a
// cache buffer); mask (null: none) an IntTensor broadcastable to (Bk, H, 1, Tk), nonzero = not
// allowed. Returns y (B, 1, H * Dh): per head, p = softmax(scale q k^T) over the allowed keys
// (p = 0 for all of a fully masked row) and y_h = p v, the heads side by side as the fused
// attention op merges them. Each score is summed in T in 16 interleaved partial sums;
// the softmax is masked_softmax's (max, exp in T, sum in double); y sums p_j v_j in key order. With
// kv_rows (B indices into the Bk rows of k, v and the mask), query row b reads row kv_rows[b] of
// them; without, Bk = B and row b. With key_rows (B * Tk indices into the Bk rows, row-major;
// no mask, no kv_rows), query row b reads key and value j from row key_rows[b * Tk + j]: a decoder
// cache whose rows were reordered without copying (each position of a history stays in the row
// that wrote it).
Tensor attention_one_query(const Tensor& q, const Tensor& k, const Tensor& v, const IntTensor* mask,
                           double scale, const std::vector<int64_t>* kv_rows = nullptr,
                           const std::vector<int64_t>* key_rows = nullptr);

}  // namespace sg
