// Fused scaled dot-product attention over heads: for every batch element b and head h,
//   S = scale * q k^T (Tq, Tk), P = softmax(S with -inf where mask), ctx = P v (Tq, Dh),
// written straight into the merged-heads layout (B, Tq, H * Dh) that the output projection reads.
// One op instead of matmul, masked_softmax, matmul, permute and a reshape copy, and its backward
// writes dq, dk and dv in the (B, T, H, Dh) memory order of the projections they came from, so
// no gradient is copied to merge or split heads. self_attention takes the fused q, k, v
// projection itself and writes its gradient as one (B, T, 3C) tensor.
//
// Two routes compute it (chosen in route() below): the full route here, which materializes P
// (B, H, Tq, Tk) and keeps it for the backward, and the blocked route of
// ops_attention_blocked.cpp, which keeps one log-sum-exp per row and recomputes P tile by tile.
// In the full route each (b, h) is one task of small single-threaded GEMMs (OpenBLAS runs
// single-threaded inside a parallel region), written by one thread.
#include <algorithm>
#include <memory>
#include <vector>

#include "autograd/attention_kernels.h"
#include "autograd/engine.h"
#include "autograd/gemm.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"

namespace sg {

namespace {

using attn::GradOut;
using attn::Heads;

// A (B, H, T, Dh) tensor whose memory is (B, T, H, Dh): the layout of heads split from a
// (B, T, H * Dh) projection, so merging its heads back is a view.
// Zeros: the blocked route's backward adds into it tile by tile.
Tensor zero_heads(int64_t B, int64_t H, int64_t T, int64_t Dh, DType dt) {
  const Tensor base = Tensor::zeros({B, T, H, Dh}, dt);
  return Tensor::view_of(base, {B, H, T, Dh}, {T * H * Dh, Dh, H * Dh, 1}, 0);
}

// Heads with a unit last-dim stride are read in place; any other layout is copied once.
Tensor heads_operand(const Tensor& x) {
  return x.strides()[3] == 1 || x.size(3) <= 1 ? x.detach() : x.contiguous_data();
}

void check_heads(const Tensor& q, const Tensor& k, const Tensor& v) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || k.shape() != v.shape() ||
      q.size(0) != k.size(0) || q.size(1) != k.size(1) || q.size(3) != k.size(3) ||
      q.dtype() != k.dtype() || q.dtype() != v.dtype())
    throw std::invalid_argument("attention: q " + shape_str(q.shape()) + ", k " +
                                shape_str(k.shape()) + " and v " + shape_str(v.shape()) +
                                " must be (B, H, Tq, Dh), (B, H, Tk, Dh) twice, of one dtype");
}

// Forward: y (B, Tq, C), the probabilities p (B, H, Tq, Tk) and, with dropout, the dropped
// probabilities pd = p M (M = keep / (1 - p_drop), attention_dropout.h) that multiplied v; all
// without history.
struct Forward {
  Tensor y, p, pd;
};

Forward full_forward(const Tensor& q, const Tensor& k, const Tensor& v, const IntTensor* mask,
                     double scale, const attn::DropMask& drop) {
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2), Dh = q.size(3),
                C = H * Dh;
  Tensor scores = Tensor::empty({B, H, Tq, Tk}, q.dtype());
  Tensor y = Tensor::empty({B, Tq, C}, q.dtype());
  // S = q k^T for every head (single-threaded GEMMs, one head per task) ...
  dispatch(q.dtype(), [&](auto z) {
    using T = decltype(z);
    const Heads hq(q), hk(k);
    const T *pq = q.data<T>(), *pk = k.data<T>();
    T* ps = scores.data<T>();
    parallel_for(B * H, row_grain(Tq * Tk * Dh), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {
        const int64_t b = i / H, h = i % H;
        gemm<T>(false, true, Tq, Tk, Dh, T(1), pq + hq.at(b, h), hq.ld, pk + hk.at(b, h), hk.ld,
                T(0), ps + i * Tq * Tk, Tk);
      }
    });
  });
  // ... P = masked_softmax(S, scale), as the composed ops compute it (scores has no history) ...
  const Tensor p = masked_softmax(scores, mask, scale);
  // ... dropped as the blocked route drops them (same mask, same scaling) ...
  const Tensor pd = drop.active ? Tensor::empty(p.shape(), p.dtype()) : p;
  // ... and ctx = (P M) v, head h of row (b, t) at y[b, t, h * Dh].
  dispatch(q.dtype(), [&](auto z) {
    using T = decltype(z);
    const Heads hv(v);
    const T *pv = v.data<T>(), *pp = pd.data<T>();
    T* py = y.data<T>();
    parallel_for(B * H, row_grain(Tq * Tk * Dh), [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {
        const int64_t b = i / H, h = i % H;
        if (drop.active)
          for (int64_t r = 0; r < Tq; ++r)
            drop.apply(p.data<T>() + (i * Tq + r) * Tk, pd.data<T>() + (i * Tq + r) * Tk, Tk,
                       drop.row(b, h, r), 0);
        gemm<T>(false, false, Tq, Dh, Tk, T(1), pp + i * Tq * Tk, Tk, pv + hv.at(b, h), hv.ld, T(0),
                py + b * Tq * C + h * Dh, C);
      }
    });
  });
  return {y, p, drop.active ? pd : Tensor()};
}

// Backward, with G = dctx (Tq, Dh) per head (g is (B, Tq, C)):
//   dP = G v^T,  dS = P * (dP - rowsum(dP * P)),  dq = scale dS k,  dk = scale dS^T q,
//   dv = P^T G.
// With dropout (pd = P M defined), ctx = (P M) v, so dv = (P M)^T G and the gradient reaching P
// is dP M: dS = P M dP - P rowsum(P M dP).
// Every element of each requested gradient is written once, by the task of its head.
template <class T>
void full_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& p,
                   const Tensor& pd, const Tensor& g, double scale, const GradOut<T>& out) {
  const int64_t B = q.size(0), H = q.size(1), Tq = q.size(2), Tk = k.size(2), Dh = q.size(3),
                C = H * Dh;
  const Heads hq(q), hk(k), hv(v);
  const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>(), *pp = p.data<T>(),
          *ppd = pd.defined() ? pd.data<T>() : nullptr, *pg = g.data<T>();
  const T sc = static_cast<T>(scale);
  auto at = [&](int j, int64_t b, int64_t h) { return out.base[j] + b * out.sb[j] + h * Dh; };
  parallel_for(B * H, row_grain(Tq * Tk * Dh), [&](int64_t s, int64_t e) {
    std::vector<T> ds(Tq * Tk);
    for (int64_t i = s; i < e; ++i) {
      const int64_t b = i / H, h = i % H;
      const T* P = pp + i * Tq * Tk;
      const T* PM = ppd ? ppd + i * Tq * Tk : P;
      const T* G = pg + b * Tq * C + h * Dh;  // (Tq, Dh), ld C
      if (out.base[2])                        // dv = (P M)^T G
        gemm<T>(true, false, Tk, Dh, Tq, T(1), PM, Tk, G, C, T(0), at(2, b, h), out.ld[2]);
      if (!out.base[0] && !out.base[1]) continue;
      // dP = G v^T, then dS = P (dP - rowsum(dP P)) in place.
      gemm<T>(false, true, Tq, Tk, Dh, T(1), G, C, pv + hv.at(b, h), hv.ld, T(0), ds.data(), Tk);
      for (int64_t r = 0; r < Tq; ++r) {
        T* dr = ds.data() + r * Tk;
        const T* pr = P + r * Tk;
        if (ppd) {  // dS = P M dP - P rowsum(P M dP)
          const T* pm = PM + r * Tk;
          double dot = 0;
          for (int64_t c = 0; c < Tk; ++c) {
            dr[c] *= pm[c];
            dot += dr[c];
          }
          const T rowdot = static_cast<T>(dot);
          for (int64_t c = 0; c < Tk; ++c) dr[c] -= pr[c] * rowdot;
          continue;
        }
        double dot = 0;
        for (int64_t c = 0; c < Tk; ++c) dot += static_cast<double>(dr[c]) * pr[c];
        const T rowdot = static_cast<T>(dot);
        for (int64_t c = 0; c < Tk; ++c) dr[c] = pr[c] * (dr[c] - rowdot);
      }
      if (out.base[0])  // dq = scale dS k
        gemm<T>(false, false, Tq, Dh, Tk, sc, ds.data(), Tk, pk + hk.at(b, h), hk.ld, T(0),
                at(0, b, h), out.ld[0]);
      if (out.base[1])  // dk = scale dS^T q
        gemm<T>(true, false, Tk, Dh, Tq, sc, ds.data(), Tk, pq + hq.at(b, h), hq.ld, T(0),
                at(1, b, h), out.ld[1]);
    }
  });
}

// The full route's mask as one tensor, the dense mask or-ed with the causal one: (B', H', Tq, Tk)
// with B' and H' the dense mask's (1 without one). Only the route that stores (B, H, Tq, Tk)
// probabilities builds a (Tq, Tk) mask.
IntTensor full_mask(const AttentionMask& mask, int64_t B, int64_t H, int64_t Tq, int64_t Tk) {
  const attn::Mask m = attn::make_mask({mask.dense, false}, B, H, Tq, Tk, AttentionTiles{});
  IntTensor out = IntTensor::zeros({m.mb, m.mh, Tq, Tk});
  int64_t* o = out.data.data();
  for (int64_t b = 0; b < m.mb; ++b)
    for (int64_t h = 0; h < m.mh; ++h)
      for (int64_t i = 0; i < Tq; ++i, o += Tk)
        for (int64_t j = 0; j < Tk; ++j)
          o[j] = (!m.bytes.empty() && m.row(b, h, i)[j * m.sj]) || j > i;
  return out;
}

// The route, chosen here and nowhere else: the full route when the caller asks for the
// probabilities themselves (attention maps: `seqgrad attention`, the report, the layer tests),
// which only it materializes; the blocked route for everything else (training, evaluation,
// decoding), whose memory grows linearly in T and whose speed holds up at long sequences.
bool full_route(const Tensor* probs) {
  return probs != nullptr;
}

// One call's forward, and what its backward needs: q, k, v and the full route's p (and pd), or
// the blocked route's mask bytes, output and log-sum-exp per row, and the dropout mask's seed.
struct Saved {
  Tensor q, k, v, p, pd, y, lse;
  attn::Mask mask;
  attn::DropMask drop;
  AttentionTiles tiles;
  double scale = 1;
  template <class T>
  void backward(const Tensor& g, const GradOut<T>& out) const {
    if (p.defined())
      full_backward<T>(q, k, v, p, pd, g, scale, out);
    else
      attn::blocked_backward<T>(q, k, v, mask, y, lse, g, scale, tiles, drop, out);
  }
};

// Runs the route for q (B, H, Tq, Dh), k and v (B, H, Tk, Dh) (unit last-dim strides) and
// returns y (B, Tq, H * Dh); `saved` receives the backward's state.
Tensor run_forward(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionMask& mask,
                   double scale, Tensor* probs, const AttentionTiles& tiles,
                   const AttentionDropout& drop, Saved& saved) {
  saved.q = q;
  saved.k = k;
  saved.v = v;
  saved.scale = scale;
  saved.tiles = tiles;
  saved.drop = attn::DropMask(drop);
  if (full_route(probs)) {
    const IntTensor causal =
        mask.causal ? full_mask(mask, q.size(0), q.size(1), q.size(2), k.size(2)) : IntTensor();
    Forward f = full_forward(q, k, v, mask.causal ? &causal : mask.dense, scale, saved.drop);
    *probs = f.p;
    saved.p = f.p;
    saved.pd = f.pd;
    return f.y;
  }
  saved.mask = attn::make_mask(mask, q.size(0), q.size(1), q.size(2), k.size(2), tiles);
  attn::BlockedForward f = attn::blocked_forward(q, k, v, saved.mask, scale, tiles, saved.drop);
  saved.y = f.y.detach();
  saved.lse = f.lse;
  return f.y;
}

}  // namespace

Tensor attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in,
                 const AttentionMask& mask, double scale, Tensor* probs,
                 const AttentionTiles& tiles, const AttentionDropout& drop) {
  check_heads(q_in, k_in, v_in);
  const int64_t B = q_in.size(0), H = q_in.size(1), Tq = q_in.size(2), Tk = k_in.size(2),
                Dh = q_in.size(3), C = H * Dh;
  auto saved = std::make_shared<Saved>();
  const Tensor y = run_forward(heads_operand(q_in), heads_operand(k_in), heads_operand(v_in), mask,
                               scale, probs, tiles, drop, *saved);
  if (!needs_record({&q_in, &k_in, &v_in})) return y;
  return record(y, "attention", {q_in, k_in, v_in},
                [saved, B, H, Tq, Tk, Dh, C](const Tensor& g_in, const std::vector<bool>& needs) {
                  const Tensor g = g_in.contiguous_data();
                  // dq, dk, dv in (B, T, H, Dh) memory: merging their heads back is a view.
                  std::vector<Tensor> d(3);
                  if (needs[0]) d[0] = zero_heads(B, H, Tq, Dh, g.dtype());
                  if (needs[1]) d[1] = zero_heads(B, H, Tk, Dh, g.dtype());
                  if (needs[2]) d[2] = zero_heads(B, H, Tk, Dh, g.dtype());
                  dispatch(g.dtype(), [&](auto z) {
                    using T = decltype(z);
                    GradOut<T> out;
                    for (int j = 0; j < 3; ++j) {
                      if (!d[j].defined()) continue;
                      out.base[j] = d[j].data<T>();
                      out.sb[j] = (j == 0 ? Tq : Tk) * C;
                      out.ld[j] = C;
                    }
                    saved->backward<T>(g, out);
                  });
                  return d;
                });
}

Tensor self_attention(const Tensor& qkv, int64_t heads, const AttentionMask& mask, double scale,
                      Tensor* probs, const AttentionTiles& tiles, const AttentionDropout& drop) {
  if (qkv.dim() != 3 || heads <= 0 || qkv.size(2) % (3 * heads) != 0)
    throw std::invalid_argument("self_attention: qkv " + shape_str(qkv.shape()) +
                                " must be (B, T, 3C) with C divisible by " + std::to_string(heads) +
                                " heads");
  const Tensor x = qkv.contiguous_data().detach();
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2) / 3, H = heads, Dh = C / H;
  // Heads of the three column blocks as (B, H, T, Dh) views, rows 3C apart.
  auto block = [&](int64_t j) {
    return Tensor::view_of(x, {B, H, T, Dh}, {T * 3 * C, Dh, 3 * C, 1}, x.offset() + j * C);
  };
  auto saved = std::make_shared<Saved>();
  const Tensor y =
      run_forward(block(0), block(1), block(2), mask, scale, probs, tiles, drop, *saved);
  if (!needs_record({&qkv})) return y;
  return record(y, "self_attention", {qkv},
                [saved, B, T, C](const Tensor& g_in, const std::vector<bool>&) {
                  const Tensor g = g_in.contiguous_data();
                  // dq, dk and dv are the column blocks of one (B, T, 3C) gradient.
                  Tensor d = Tensor::zeros({B, T, 3 * C}, g.dtype());
                  dispatch(g.dtype(), [&](auto z) {
                    using U = decltype(z);
                    GradOut<U> out;
                    for (int j = 0; j < 3; ++j) {
                      out.base[j] = d.data<U>() + j * C;
                      out.sb[j] = T * 3 * C;
                      out.ld[j] = 3 * C;
                    }
                    saved->backward<U>(g, out);
                  });
                  return std::vector<Tensor>{d};
                });
}

}  // namespace sg
