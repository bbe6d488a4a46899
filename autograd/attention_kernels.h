// Internal to ops_attention.cpp and ops_attention_blocked.cpp: how the fused attention ops read
// heads and masks and write gradients, and the blocked route's kernels (forward with an online
// softmax, backward recomputing the probabilities block by block).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "autograd/attention_dropout.h"
#include "autograd/ops.h"
#include "autograd/tensor.h"

namespace sg::attn {

// Where head (b, h) of a (B, H, T, Dh) tensor starts, and its row stride (last-dim stride 1).
struct Heads {
  int64_t sb, sh, ld;
  explicit Heads(const Tensor& t) : sb(t.strides()[0]), sh(t.strides()[1]), ld(t.strides()[2]) {}
  int64_t at(int64_t b, int64_t h) const { return b * sb + h * sh; }
};

// Where the gradients of q, k and v go: head (b, h) of each at base + b * sb + h * Dh, rows ld
// apart (null: not needed).
template <class T>
struct GradOut {
  T* base[3] = {nullptr, nullptr, nullptr};
  int64_t sb[3] = {0, 0, 0}, ld[3] = {0, 0, 0};
};

// The dense mask as one byte per entry of its own shape, read as if broadcast to (B, H, Tq, Tk)
// through strides that are 0 on its broadcast dims, and for every tile of (query rows, keys) of
// every (mask batch, mask head) whether it is all live, mixed or all masked; the causal part
// classifies tiles from their indices (above the diagonal masked, on it mixed). Built once in the
// forward and kept for the backward: a decoder's key padding and causal flag are B T bytes.
struct Mask {
  enum Tile : uint8_t { kLive = 0, kMixed = 1, kMasked = 2 };
  std::vector<uint8_t> bytes;  // empty: no dense mask, every dense tile live
  int64_t sb = 0, sh = 0, si = 0, sj = 0;
  int64_t mb = 1, mh = 1, nqt = 1, nkt = 1;  // mask batches and heads, tiles per column and row
  std::vector<uint8_t> tiles;                // (mb, mh, nqt, nkt), of the dense mask
  bool causal = false;                       // key j > query i masked as well
  int64_t R = 1, K = 1, Tq = 0, Tk = 0;      // tile sizes and lengths, for the causal part
  const uint8_t* row(int64_t b, int64_t h, int64_t i) const {
    return bytes.data() + b * sb + h * sh + i * si;
  }
  Tile tile(int64_t b, int64_t h, int64_t qt, int64_t kt) const {
    const Tile t =
        tiles.empty()
            ? kLive
            : static_cast<Tile>(
                  tiles[(((mb > 1 ? b : 0) * mh + (mh > 1 ? h : 0)) * nqt + qt) * nkt + kt]);
    if (!causal || t == kMasked) return t;
    const int64_t i0 = qt * R, i1 = std::min(i0 + R, Tq) - 1;  // first and last query
    const int64_t j0 = kt * K, j1 = std::min(j0 + K, Tk) - 1;  // first and last key
    if (j0 > i1) return kMasked;                               // every key after every query
    return j1 <= i0 ? t : kMixed;
  }
};

// Throws unless the dense mask (null: none) broadcasts to (B, H, Tq, Tk).
Mask make_mask(const AttentionMask& mask, int64_t B, int64_t H, int64_t Tq, int64_t Tk,
               const AttentionTiles& tiles);

// Blocked forward: y (B, Tq, H * Dh) and the log-sum-exp of every row's masked, scaled scores,
// lse (B, H, Tq) (-inf on a fully masked row, whose y is 0), with `drop` applied to the
// probabilities that multiply v (the log-sum-exp is that of the undropped ones).
struct BlockedForward {
  Tensor y, lse;
};
BlockedForward blocked_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Mask& mask,
                               double scale, const AttentionTiles& tiles, const DropMask& drop);

// Blocked backward from y, lse and g = dy (B, Tq, H * Dh) into `out`, whose requested gradients
// must be zero on entry (each is accumulated over tiles).
template <class T>
void blocked_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Mask& mask,
                      const Tensor& y, const Tensor& lse, const Tensor& g, double scale,
                      const AttentionTiles& tiles, const DropMask& drop, const GradOut<T>& out);

}  // namespace sg::attn
