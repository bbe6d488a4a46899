// The blocked route of the fused attention ops (flash-attention style): the probabilities of a
// head are never stored whole. For each (b, h) and tile of R query rows, the forward walks the
// keys K at a time:
//   S = scale q_tile k_tile^T (R, K), -inf where masked,
//   m' = max(m, rowmax S),  l' = l e^(m - m') + rowsum e^(S - m'),  y = y e^(m - m') + e^(S - m') v
// and ends with y /= l and lse = m + log l per row (B, H, Tq), which it keeps with y. The backward
// recomputes P = e^(S - lse) tile by tile, with D = rowsum(dy * y) (= rowsum(dP * P)) per row:
//   dP = dy v^T,  dS = P (dP - D),  dq += scale dS k,  dk += scale dS^T q,  dv += P^T dy.
// Memory: two (R, K) buffers per thread instead of (B, H, Tq, Tk) probabilities, scores and
// gradient. Tiles that the mask hides entirely are skipped (half of a causal mask's).
//
// Attention dropout (attention_dropout.h) multiplies P by M = keep / (1 - p), entry by entry,
// after the normalization: l sums the undropped e^(S - m), and y accumulates (e^(S - m) M) v.
// With O = (P M) v the output, its backward is
//   dv = (P M)^T dO,  dP = (dO v^T) M,  dS = P (dP - D),  D = rowsum(dP P) = rowsum(dO O),
// the last because rowsum(dO O)_i = sum_j (P M)_ij (dO v^T)_ij: D is unchanged by dropout. The
// backward regenerates M for each tile from the call's seed; nothing of it is stored.
//
// Determinism: the forward's tasks are (b, h, query tile), the backward's (b, h); each writes its
// own rows and heads only, and sums over tiles in a fixed order inside its task, so the result is
// the same bits at any thread count. Every product is a single-threaded GEMM on its tiles.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/attention_kernels.h"
#include "autograd/fast_exp.h"
#include "autograd/gemm.h"
#include "autograd/parallel.h"

namespace sg::attn {

namespace {

constexpr int64_t kLanes = 16;

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// max_j s_j over n entries, in kLanes interleaved maxima (a fixed order, vectorized).
template <class T>
T row_max(const T* s, int64_t n) {
  T acc[kLanes];
  std::fill(acc, acc + kLanes, -std::numeric_limits<T>::infinity());
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) acc[l] = acc[l] < s[j + l] ? s[j + l] : acc[l];
  T m = -std::numeric_limits<T>::infinity();
  for (; j < n; ++j) m = m < s[j] ? s[j] : m;
  for (int64_t l = 0; l < kLanes; ++l) m = m < acc[l] ? acc[l] : m;
  return m;
}

// s_j = e^(s_j - shift) in place; returns sum_j s_j (kLanes partial sums in T, added in double).
template <class T>
double exp_row(T* s, int64_t n, T shift) {
  T acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) {
      const T e = kernel_exp(s[j + l] - shift);
      s[j + l] = e;
      acc[l] += e;
    }
  double sum = 0;
  for (; j < n; ++j) {
    s[j] = kernel_exp(s[j] - shift);
    sum += s[j];
  }
  for (int64_t l = 0; l < kLanes; ++l) sum += acc[l];
  return sum;
}

// -inf at the masked entries of a mixed tile's row s, query i of head (b, h), keys j0 .. j0 + n -
// 1: the dense mask's bytes, then with the causal flag every key past i.
template <class T>
void mask_row(T* s, const Mask& mask, int64_t b, int64_t h, int64_t i, int64_t j0, int64_t n) {
  const T ninf = -std::numeric_limits<T>::infinity();
  if (!mask.bytes.empty()) {
    const uint8_t* m = mask.row(b, h, i) + j0 * mask.sj;
    if (mask.sj == 1) {
      for (int64_t j = 0; j < n; ++j) s[j] = m[j] ? ninf : s[j];
    } else if (m[0]) {
      std::fill(s, s + n, ninf);
    }
  }
  if (mask.causal) std::fill(s + std::clamp<int64_t>(i - j0 + 1, 0, n), s + n, ninf);
}

// The shapes of one call: q (B, H, Tq, Dh), k and v (B, H, Tk, Dh), R x K tiles.
struct Dims {
  int64_t B, H, Tq, Tk, Dh, C, R, K, nqt, nkt;
  Dims(const Tensor& q, const Tensor& k, const AttentionTiles& t)
      : B(q.size(0)),
        H(q.size(1)),
        Tq(q.size(2)),
        Tk(k.size(2)),
        Dh(q.size(3)),
        C(H * Dh),
        R(t.rows),
        K(t.keys),
        nqt(ceil_div(Tq, R)),
        nkt(ceil_div(Tk, K)) {}
};

template <class T>
void forward_kernel(const Tensor& q, const Tensor& k, const Tensor& v, const Mask& mask, T scale,
                    const DropMask& drop, const Dims& d, T* y, T* lse) {
  const Heads hq(q), hk(k), hv(v);
  const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
  const T ninf = -std::numeric_limits<T>::infinity();
  parallel_for(d.B * d.H * d.nqt, row_grain(d.R * d.Tk * d.Dh), [&](int64_t s0, int64_t s1) {
    std::vector<T> sbuf(d.R * d.K), m(d.R);
    std::vector<double> l(d.R);
    for (int64_t task = s0; task < s1; ++task) {
      const int64_t b = task / (d.H * d.nqt), h = task / d.nqt % d.H, qt = task % d.nqt;
      const int64_t i0 = qt * d.R, rq = std::min(d.R, d.Tq - i0);
      const T* Q = pq + hq.at(b, h) + i0 * hq.ld;
      T* Y = y + (b * d.Tq + i0) * d.C + h * d.Dh;  // (rq, Dh), ld C
      for (int64_t r = 0; r < rq; ++r) std::fill(Y + r * d.C, Y + r * d.C + d.Dh, T(0));
      std::fill(m.begin(), m.end(), ninf);
      std::fill(l.begin(), l.end(), 0.0);
      for (int64_t kt = 0; kt < d.nkt; ++kt) {
        const Mask::Tile tile = mask.tile(b, h, qt, kt);
        if (tile == Mask::kMasked) continue;
        const int64_t j0 = kt * d.K, rk = std::min(d.K, d.Tk - j0);
        T* S = sbuf.data();
        gemm_serial<T>(false, true, rq, rk, d.Dh, scale, Q, hq.ld, pk + hk.at(b, h) + j0 * hk.ld,
                       hk.ld, T(0), S, d.K);
        for (int64_t r = 0; r < rq; ++r) {
          T* sr = S + r * d.K;
          if (tile == Mask::kMixed) mask_row(sr, mask, b, h, i0 + r, j0, rk);
          const T mnew = std::max(m[r], row_max(sr, rk));
          if (mnew == ninf) {  // nothing live in this row yet
            std::fill(sr, sr + rk, T(0));
            continue;
          }
          const T alpha = kernel_exp(m[r] - mnew);  // 0 while m was -inf
          l[r] = l[r] * alpha + exp_row(sr, rk, mnew);
          m[r] = mnew;
          if (alpha != T(1))
            for (int64_t c = 0; c < d.Dh; ++c) Y[r * d.C + c] *= alpha;
          if (drop.active) drop.apply(sr, sr, rk, drop.row(b, h, i0 + r), j0);
        }
        gemm_serial<T>(false, false, rq, d.Dh, rk, T(1), S, d.K, pv + hv.at(b, h) + j0 * hv.ld,
                       hv.ld, T(1), Y, d.C);
      }
      T* L = lse + (b * d.H + h) * d.Tq + i0;
      for (int64_t r = 0; r < rq; ++r) {
        if (l[r] == 0) {  // fully masked: y stays 0
          L[r] = ninf;
          continue;
        }
        const T inv = static_cast<T>(1.0 / l[r]);
        for (int64_t c = 0; c < d.Dh; ++c) Y[r * d.C + c] *= inv;
        L[r] = static_cast<T>(m[r] + std::log(l[r]));
      }
    }
  });
}

}  // namespace

Mask make_mask(const AttentionMask& am, int64_t B, int64_t H, int64_t Tq, int64_t Tk,
               const AttentionTiles& tiles) {
  if (tiles.rows < 1 || tiles.keys < 1)
    throw std::invalid_argument("attention: tiles must be at least 1 x 1");
  Mask M;
  M.nqt = ceil_div(Tq, tiles.rows);
  M.nkt = ceil_div(Tk, tiles.keys);
  M.causal = am.causal;
  M.R = tiles.rows;
  M.K = tiles.keys;
  M.Tq = Tq;
  M.Tk = Tk;
  const IntTensor* mask = am.dense;
  if (!mask) return M;
  const Shape full = {B, H, Tq, Tk};
  const int64_t lead = 4 - static_cast<int64_t>(mask->shape.size());
  bool fits = lead >= 0;
  Shape ms(4, 1);
  for (int64_t i = 0; fits && i < 4; ++i) {
    if (i >= lead) ms[i] = mask->shape[i - lead];
    fits = ms[i] == 1 || ms[i] == full[i];
  }
  if (!fits)
    throw std::invalid_argument("attention: mask " + shape_str(mask->shape) +
                                " does not broadcast to " + shape_str(full));
  M.sj = ms[3] == 1 ? 0 : 1;
  M.si = ms[2] == 1 ? 0 : ms[3];
  M.sh = ms[1] == 1 ? 0 : ms[2] * ms[3];
  M.sb = ms[0] == 1 ? 0 : ms[1] * ms[2] * ms[3];
  M.mb = ms[0];
  M.mh = ms[1];
  M.bytes.resize(mask->data.size());
  for (size_t i = 0; i < M.bytes.size(); ++i) M.bytes[i] = mask->data[i] != 0;
  // Classify every tile of every (mask batch, mask head).
  M.tiles.assign(M.mb * M.mh * M.nqt * M.nkt, Mask::kLive);
  bool any = false;
  for (int64_t b = 0; b < M.mb; ++b)
    for (int64_t h = 0; h < M.mh; ++h)
      for (int64_t qt = 0; qt < M.nqt; ++qt)
        for (int64_t kt = 0; kt < M.nkt; ++kt) {
          const int64_t i0 = qt * tiles.rows, i1 = std::min(Tq, i0 + tiles.rows);
          const int64_t j0 = kt * tiles.keys, j1 = std::min(Tk, j0 + tiles.keys);
          int64_t masked = 0;
          for (int64_t i = i0; i < i1; ++i) {
            const uint8_t* row = M.row(b, h, i);
            for (int64_t j = j0; j < j1; ++j) masked += row[j * M.sj];
          }
          const uint8_t t = masked == 0                       ? Mask::kLive
                            : masked == (i1 - i0) * (j1 - j0) ? Mask::kMasked
                                                              : Mask::kMixed;
          M.tiles[((b * M.mh + h) * M.nqt + qt) * M.nkt + kt] = t;
          any = any || t != Mask::kLive;
        }
  if (!any) {  // nothing masked: no dense mask at all
    M.tiles.clear();
    M.bytes.clear();
  }
  return M;
}

BlockedForward blocked_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Mask& mask,
                               double scale, const AttentionTiles& tiles, const DropMask& drop) {
  const Dims d(q, k, tiles);
  BlockedForward f{Tensor::empty({d.B, d.Tq, d.C}, q.dtype()),
                   Tensor::empty({d.B, d.H, d.Tq}, q.dtype())};
  dispatch(q.dtype(), [&](auto z) {
    using T = decltype(z);
    forward_kernel<T>(q, k, v, mask, static_cast<T>(scale), drop, d, f.y.data<T>(),
                      f.lse.data<T>());
  });
  return f;
}

template <class T>
void blocked_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Mask& mask,
                      const Tensor& y, const Tensor& lse, const Tensor& g, double scale,
                      const AttentionTiles& tiles, const DropMask& drop, const GradOut<T>& out) {
  const Dims d(q, k, tiles);
  const Heads hq(q), hk(k), hv(v);
  const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>(), *py = y.data<T>(),
          *pl = lse.data<T>(), *pg = g.data<T>();
  const T sc = static_cast<T>(scale), ninf = -std::numeric_limits<T>::infinity();
  const bool need_ds = out.base[0] || out.base[1];
  auto at = [&](int j, int64_t b, int64_t h, int64_t row) {
    return out.base[j] + b * out.sb[j] + h * d.Dh + row * out.ld[j];
  };
  parallel_for(d.B * d.H, row_grain(d.Tq * d.Tk * d.Dh), [&](int64_t s0, int64_t s1) {
    std::vector<T> pbuf(d.R * d.K), dsbuf(d.R * d.K), pmbuf(drop.active ? d.R * d.K : 0), D(d.Tq);
    for (int64_t task = s0; task < s1; ++task) {
      const int64_t b = task / d.H, h = task % d.H;
      const T* G = pg + b * d.Tq * d.C + h * d.Dh;  // dy (Tq, Dh), ld C; y likewise
      const T* Y = py + b * d.Tq * d.C + h * d.Dh;
      const T* L = pl + task * d.Tq;
      for (int64_t i = 0; i < d.Tq; ++i) {
        double dot = 0;
        for (int64_t c = 0; c < d.Dh; ++c)
          dot += static_cast<double>(G[i * d.C + c]) * Y[i * d.C + c];
        D[i] = static_cast<T>(dot);
      }
      for (int64_t kt = 0; kt < d.nkt; ++kt) {
        const int64_t j0 = kt * d.K, rk = std::min(d.K, d.Tk - j0);
        const T* Kt = pk + hk.at(b, h) + j0 * hk.ld;
        for (int64_t qt = 0; qt < d.nqt; ++qt) {
          const Mask::Tile tile = mask.tile(b, h, qt, kt);
          if (tile == Mask::kMasked) continue;
          const int64_t i0 = qt * d.R, rq = std::min(d.R, d.Tq - i0);
          const T* Qt = pq + hq.at(b, h) + i0 * hq.ld;
          T* P = pbuf.data();
          gemm_serial<T>(false, true, rq, rk, d.Dh, sc, Qt, hq.ld, Kt, hk.ld, T(0), P, d.K);
          for (int64_t r = 0; r < rq; ++r) {
            T* pr = P + r * d.K;
            if (L[i0 + r] == ninf) {  // a fully masked row: P = 0
              std::fill(pr, pr + rk, T(0));
              continue;
            }
            if (tile == Mask::kMixed) mask_row(pr, mask, b, h, i0 + r, j0, rk);
            for (int64_t j = 0; j < rk; ++j) pr[j] = kernel_exp(pr[j] - L[i0 + r]);
          }
          // P M, the probabilities that multiplied v (P itself without dropout).
          const T* PM = P;
          if (drop.active) {
            for (int64_t r = 0; r < rq; ++r)
              drop.apply(P + r * d.K, pmbuf.data() + r * d.K, rk, drop.row(b, h, i0 + r), j0);
            PM = pmbuf.data();
          }
          if (out.base[2])  // dv += (P M)^T dy
            gemm_serial<T>(true, false, rk, d.Dh, rq, T(1), PM, d.K, G + i0 * d.C, d.C, T(1),
                           at(2, b, h, j0), out.ld[2]);
          if (!need_ds) continue;
          // dP = dy v^T (times M), then dS = P (dP - D) in place: P M dP - P D with dropout.
          T* dS = dsbuf.data();
          gemm_serial<T>(false, true, rq, rk, d.Dh, T(1), G + i0 * d.C, d.C,
                         pv + hv.at(b, h) + j0 * hv.ld, hv.ld, T(0), dS, d.K);
          for (int64_t r = 0; r < rq; ++r) {
            const T *pr = P + r * d.K, *pm = PM + r * d.K;
            T* dr = dS + r * d.K;
            const T Di = D[i0 + r];
            if (drop.active)
              for (int64_t j = 0; j < rk; ++j) dr[j] = pm[j] * dr[j] - pr[j] * Di;
            else
              for (int64_t j = 0; j < rk; ++j) dr[j] = pr[j] * (dr[j] - Di);
          }
          if (out.base[0])  // dq += scale dS k
            gemm_serial<T>(false, false, rq, d.Dh, rk, sc, dS, d.K, Kt, hk.ld, T(1),
                           at(0, b, h, i0), out.ld[0]);
          if (out.base[1])  // dk += scale dS^T q
            gemm_serial<T>(true, false, rk, d.Dh, rq, sc, dS, d.K, Qt, hq.ld, T(1), at(1, b, h, j0),
                           out.ld[1]);
        }
      }
    }
  });
}

template void blocked_backward<float>(const Tensor&, const Tensor&, const Tensor&, const Mask&,
                                      const Tensor&, const Tensor&, const Tensor&, double,
                                      const AttentionTiles&, const DropMask&,
                                      const GradOut<float>&);
template void blocked_backward<double>(const Tensor&, const Tensor&, const Tensor&, const Mask&,
                                       const Tensor&, const Tensor&, const Tensor&, double,
                                       const AttentionTiles&, const DropMask&,
                                       const GradOut<double>&);

}  // namespace sg::attn
