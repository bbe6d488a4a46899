// Every differentiable op, declared once. Each is defined in one place, in the ops_*.cpp named
// beside its group, with its backward directly below its forward, and has a row in the gradcheck
// table (gradcheck_cases_*.cpp). Ops accept any strides; outputs are contiguous unless the op is a
// view (broadcast_to, transpose, permute, slice, and reshape where the strides allow it).
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace sg {

class Generator;

// ---- elementwise (ops_elementwise.cpp)
// Binary ops broadcast NumPy-style, explicitly: each input whose shape differs from the result is
// first passed through broadcast_to, so its gradient comes back through sum_to.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double s);  // a + s
Tensor mul(const Tensor& a, double s);  // a * s
Tensor neg(const Tensor& x);
Tensor pow(const Tensor& x, double p);  // x^p, scalar exponent
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);  // exact: x * Phi(x), as torch.nn.functional.gelu

inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
inline Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
inline Tensor operator+(const Tensor& a, double s) {
  return add(a, s);
}
inline Tensor operator-(const Tensor& a, double s) {
  return add(a, -s);
}
inline Tensor operator*(const Tensor& a, double s) {
  return mul(a, s);
}
inline Tensor operator*(double s, const Tensor& a) {
  return mul(a, s);
}
inline Tensor operator/(const Tensor& a, double s) {
  return mul(a, 1.0 / s);
}
inline Tensor operator-(const Tensor& x) {
  return neg(x);
}

// ---- broadcasting and reductions (ops_reduce.cpp)
Shape broadcast_shapes(const Shape& a, const Shape& b);    // throws if incompatible
Tensor broadcast_to(const Tensor& x, const Shape& shape);  // stride-0 view; backward: sum_to
Tensor sum_to(const Tensor& x, const Shape& shape);  // sums broadcast dims; backward: broadcast_to
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim = false);
Tensor sum(const Tensor& x);  // all elements, shape {}
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor max(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim = false);

// ---- shape (ops_shape.cpp)
Tensor reshape(const Tensor& x, const Shape& shape);  // one dim may be -1
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor concat(const std::vector<Tensor>& xs, int64_t dim);
Tensor contiguous(const Tensor& x);  // identity in value, contiguous layout

// ---- matmul (ops_matmul.cpp)
// a: (..., M, K), b: (..., K, N) -> (..., M, N); batch dims broadcast, 1-d b is not supported.
Tensor matmul(const Tensor& a, const Tensor& b);
// x: (..., K), w: (N, K), b: (N) or undefined -> (..., N) = x w^T + b, as torch's F.linear.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);
// relu(linear(x, w, b)) as one op (the feed-forward block's first layer), bit for bit the same.
Tensor linear_relu(const Tensor& x, const Tensor& w, const Tensor& b);

// ---- neural-network ops (ops_nn.cpp)
// Along dim. A row whose entries are all -inf (fully masked) gives zeros and a zero gradient,
// never NaN; for log_softmax too (PyTorch gives NaN there).
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
// Normalizes over the last dim; w, b: (C) or undefined.
Tensor layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps = 1e-5);
// weight: (V, C), ids: any shape -> ids.shape + (C). Throws on an id outside [0, V).
Tensor embedding(const Tensor& weight, const IntTensor& ids);
// Where mask (broadcastable to x) is nonzero, the result is `value` and the gradient zero.
Tensor masked_fill(const Tensor& x, const IntTensor& mask, double value);
// softmax over the last dim of scale * x with -inf where mask (broadcastable to x; null: none)
// is nonzero: attention's scale, mask and softmax in one pass, forward and backward.
Tensor masked_softmax(const Tensor& x, const IntTensor* mask, double scale = 1.0);

// ---- attention (ops_attention.cpp, ops_attention_blocked.cpp)
// The blocked route's tiles: query rows and keys per tile (bench/README.md has the measurement
// behind the defaults). Tests pass small tiles so that short sequences cross several of them.
struct AttentionTiles {
  int64_t rows = 64, keys = 128;
};
// Dropout on the attention probabilities, inside the op: probability (b, h, i, j) is kept when a
// stateless hash of (seed, b, h, i, j) clears p (autograd/attention_dropout.h) and then scaled by
// 1 / (1 - p), so the mask depends on neither the route, the tiles nor the thread count, and
// is never stored. p == 0 (the default) drops nothing; p in [0, 1) (else throws).
struct AttentionDropout {
  double p = 0;
  uint64_t seed = 0;
};
// The keys a query may not see: the nonzero entries of `dense` (broadcastable to (B, H, Tq, Tk);
// null: none) and, if `causal`, every key j > i for query i, decided from the indices so that no
// (Tq, Tk) tensor exists (a decoder passes its (B, 1, 1, Tk) key padding as `dense`). A plain
// mask pointer converts to one.
struct AttentionMask {
  AttentionMask(const IntTensor* m = nullptr, bool c = false) : dense(m), causal(c) {}  // NOLINT
  const IntTensor* dense;
  bool causal;
};
// Scaled dot-product attention over heads, fused: q (B, H, Tq, Dh), k and v (B, H, Tk, Dh) ->
// (B, Tq, H * Dh), heads merged: y[b, t, h*Dh:(h+1)*Dh] = dropout(softmax(scale q k^T, -inf
// where mask)) v for head h. A fully masked row gives zeros. If `probs` is given it receives the
// probabilities (B, H, Tq, Tk) before dropout, without history, and the op keeps them for its
// backward; otherwise it runs tile by tile with an online softmax and keeps only a log-sum-exp per
// row (B, H, Tq), recomputing the probabilities (and the dropout mask) in its backward.
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionMask& mask,
                 double scale, Tensor* probs = nullptr, const AttentionTiles& tiles = {},
                 const AttentionDropout& drop = {});
// Self-attention on one projection: qkv (B, T, 3C) holds q, k and v as column blocks (C = heads
// * Dh each); the same result as attention() on their heads, and one (B, T, 3C) gradient.
Tensor self_attention(const Tensor& qkv, int64_t heads, const AttentionMask& mask, double scale,
                      Tensor* probs = nullptr, const AttentionTiles& tiles = {},
                      const AttentionDropout& drop = {});

// ---- dropout and the loss (ops_dropout_loss.cpp)
// In training, zeroes each element with probability p and scales the rest by 1/(1-p); the mask
// is counter-based: element i is kept iff counter_u64(key, i) >= p 2^64 (random.h), with `key`
// one g.next_u64() per call. p in [0, 1] (else throws); p == 1 gives zeros.
// In eval mode or with p == 0 it returns x itself.
Tensor dropout(const Tensor& x, double p, Generator& g, bool training = true);
// logits: (N, C), targets: (N). Mean over targets != ignore_index, with PyTorch's
// label_smoothing: loss_i = (1-s) * nll_i + s * mean_c(-log p_ic). Returns shape {}. All targets
// ignored gives 0 and a zero gradient (PyTorch gives NaN). Throws on a target outside [0, C).
Tensor cross_entropy(const Tensor& logits, const IntTensor& targets, int64_t ignore_index = -100,
                     double label_smoothing = 0.0);

}  // namespace sg
