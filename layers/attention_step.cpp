#include "layers/attention_step.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "autograd/engine.h"
#include "autograd/parallel.h"

namespace sg {

namespace {

// Strides of a mask of shape m read as if broadcast to `to` (4 dims): 0 on a broadcast dim.
// Throws unless m broadcasts to `to`.
Shape broadcast_strides(const Shape& m, const Shape& to) {
  const int64_t nd = static_cast<int64_t>(to.size()), md = static_cast<int64_t>(m.size());
  if (md > nd) throw std::invalid_argument("attention_one_query: mask has too many dims");
  Shape st(nd, 0);
  int64_t stride = 1;
  for (int64_t d = md - 1; d >= 0; --d) {
    const int64_t od = d + nd - md;
    if (m[d] != 1 && m[d] != to[od])
      throw std::invalid_argument("attention_one_query: mask " + shape_str(m) +
                                  " does not broadcast to " + shape_str(to));
    st[od] = m[d] == 1 ? 0 : stride;
    stride *= m[d];
  }
  return st;
}

// q . k over n elements in kLanes independent partial sums (element d in lane d mod kLanes, so
// that the loop vectorizes), added in lane order at the end.
constexpr int64_t kLanes = 16;
template <class T>
T dot(const T* q, const T* k, int64_t n) {
  T lane[kLanes] = {};
  int64_t d = 0;
  for (; d + kLanes <= n; d += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lane[l] += q[d + l] * k[d + l];
  for (int64_t l = 0; d < n; ++d, ++l) lane[l] += q[d] * k[d];
  T sum = 0;
  for (T x : lane) sum += x;
  return sum;
}

// Eight keys' dot(q, k[i], n) at once for float, n a multiple of kLanes, the same bits as dot():
// each key's lane sums as two vectors (lanes 0-7 and 8-15), then the eight keys' lanes transposed,
// so that one vector add adds lane l of all eight sums, in dot()'s lane order. Vectors only
// through pointers (no vector arguments or results, whose ABI depends on the target).
using V8 = float __attribute__((vector_size(32)));

// r[i] (lane l) becomes r[l] (lane i): unpack pairs, then quads, then the 128-bit halves.
void transpose8(V8* r) {
  V8 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
    t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
  }
  for (int i = 0; i < 8; i += 4)
    for (int odd = 0; odd < 2; ++odd) {
      u[i + 2 * odd] =
          __builtin_shufflevector(t[i + odd], t[i + odd + 2], 0, 1, 8, 9, 4, 5, 12, 13);
      u[i + 2 * odd + 1] =
          __builtin_shufflevector(t[i + odd], t[i + odd + 2], 2, 3, 10, 11, 6, 7, 14, 15);
    }
  for (int l = 0; l < 4; ++l) {
    r[l] = __builtin_shufflevector(u[l], u[l + 4], 0, 1, 2, 3, 8, 9, 10, 11);
    r[l + 4] = __builtin_shufflevector(u[l], u[l + 4], 4, 5, 6, 7, 12, 13, 14, 15);
  }
}

void dot8(const float* q, const float* const* k, int64_t n, float* out) {
  static_assert(kLanes == 16, "two vectors of 8 lanes");
  V8 lanes[2][8];  // [lanes 0-7 or 8-15][key]
  for (int i = 0; i < 8; ++i) {
    V8 lo = {}, hi = {}, a, b, c, d;
    for (int64_t e = 0; e < n; e += kLanes) {
      std::memcpy(&a, q + e, sizeof a);
      std::memcpy(&b, k[i] + e, sizeof b);
      std::memcpy(&c, q + e + 8, sizeof c);
      std::memcpy(&d, k[i] + e + 8, sizeof d);
      lo = lo + a * b;
      hi = hi + c * d;
    }
    lanes[0][i] = lo;
    lanes[1][i] = hi;
  }
  V8 sum = {};
  for (V8* half : lanes) {
    transpose8(half);  // half[l]: lane l of the eight keys
    for (int l = 0; l < 8; ++l) sum = sum + half[l];
  }
  std::memcpy(out, &sum, sizeof sum);
}

template <class T>
void one_query(const Tensor& q, const Tensor& k, const Tensor& v, const int64_t* mask,
               const Shape& ms, double scale_d, const std::vector<int64_t>* kv_rows,
               const std::vector<int64_t>* key_rows, Tensor& y) {
  const int64_t B = q.size(0), H = q.size(1), Tk = k.size(2), Dh = q.size(3), C = H * Dh;
  const Shape &sq = q.strides(), &sk = k.strides(), &sv = v.strides();
  const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
  T* py = y.data<T>();
  const T scale = static_cast<T>(scale_d);
  parallel_for(B * H, row_grain(2 * Tk * Dh), [&](int64_t s, int64_t e) {
    std::vector<T> p(Tk), acc(Dh);
    for (int64_t i = s; i < e; ++i) {
      const int64_t b = i / H, h = i % H, kb = kv_rows ? (*kv_rows)[b] : b;
      const T* qr = pq + b * sq[0] + h * sq[1];
      // Key j of this row: row kb of k and v, or row kt[j] with key_rows.
      const int64_t* kt = key_rows ? key_rows->data() + b * Tk : nullptr;
      auto key = [&](int64_t j) { return pk + (kt ? kt[j] : kb) * sk[0] + h * sk[1] + j * sk[2]; };
      auto value = [&](int64_t j) {
        return pv + (kt ? kt[j] : kb) * sv[0] + h * sv[1] + j * sv[2];
      };
      const int64_t* mr = mask ? mask + kb * ms[0] + h * ms[1] : nullptr;
      if (kt && i + 1 < e) {
        // A reordered cache's positions lie in scattered rows, whose loads the hardware does not
        // foresee: ask for this head's values (read after the scores) and the next head's keys.
        const int64_t* kn = key_rows->data() + (i + 1) / H * Tk;
        const int64_t hn = (i + 1) % H;
        for (int64_t j = 0; j < Tk; ++j)
          for (int64_t d = 0; d < Dh; d += 64 / static_cast<int64_t>(sizeof(T))) {
            __builtin_prefetch(value(j) + d);
            __builtin_prefetch(pk + kn[j] * sk[0] + hn * sk[1] + j * sk[2] + d);
          }
      }
      T* yr = py + b * C + h * Dh;
      // p_j = scale q . k_j, then masked_softmax over the live keys.
      T m = -std::numeric_limits<T>::infinity();
      int64_t j = 0;
      // Keys after the last allowed one (a shorter source's padding) are left out: each adds
      // nothing (p = 0).
      int64_t n = Tk;
      while (mr && n > 0 && mr[(n - 1) * ms[3]] != 0) --n;
      if constexpr (std::is_same_v<T, float>) {
        if (Dh % kLanes == 0)
          for (; j < n; j += 8) {
            // A last block of fewer than 8 keys repeats its first key; those results are unused.
            const int64_t used = std::min<int64_t>(8, n - j);
            const float* k8[8];
            float d8[8];
            for (int64_t l = 0; l < 8; ++l) k8[l] = key(l < used ? j + l : j);
            dot8(qr, k8, Dh, d8);
            for (int64_t l = 0; l < used; ++l) {
              if (mr && mr[(j + l) * ms[3]] != 0) continue;
              p[j + l] = scale * d8[l];
              m = std::max(m, p[j + l]);
            }
          }
      }
      for (; j < n; ++j) {
        if (mr && mr[j * ms[3]] != 0) continue;
        p[j] = scale * dot(qr, key(j), Dh);
        m = std::max(m, p[j]);
      }
      std::fill(yr, yr + Dh, T(0));
      if (m == -std::numeric_limits<T>::infinity()) continue;  // every key masked: y = 0
      double sum = 0;
      for (int64_t jj = 0; jj < n; ++jj) {
        p[jj] = mr && mr[jj * ms[3]] != 0 ? T(0) : std::exp(p[jj] - m);
        sum += p[jj];
      }
      const T inv = static_cast<T>(1.0 / sum);
      for (int64_t jj = 0; jj < n; ++jj) p[jj] *= inv;
      // y = sum_j p_j v_j in key order, each column on its own. A key of p_j = 0 (masked, or
      // e^ underflowed) adds 0 v_j, which changes no sum: it is skipped, so that the padding of
      // shorter sources is not read.
      if constexpr (std::is_same_v<T, float>) {
        if (Dh % 8 == 0) {  // eight columns at a time, their sums in a register
          for (int64_t d = 0; d < Dh; d += 8) {
            V8 a = {}, x;
            for (int64_t jj = 0; jj < n; ++jj) {
              if (p[jj] == 0.0f) continue;
              std::memcpy(&x, value(jj) + d, sizeof x);
              a = a + p[jj] * x;
            }
            std::memcpy(yr + d, &a, sizeof a);
          }
          continue;
        }
      }
      // In acc, which nothing else can alias: a vectorizable loop over d.
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t jj = 0; jj < n; ++jj) {
        if (p[jj] == T(0)) continue;
        const T pj = p[jj];
        const T* vj = value(jj);
        for (int64_t d = 0; d < Dh; ++d) acc[d] += pj * vj[d];
      }
      std::copy(acc.begin(), acc.end(), yr);
    }
  });
}

}  // namespace

Tensor attention_one_query(const Tensor& q, const Tensor& k, const Tensor& v, const IntTensor* mask,
                           double scale, const std::vector<int64_t>* kv_rows,
                           const std::vector<int64_t>* key_rows) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || q.size(2) != 1 || k.shape() != v.shape() ||
      (!kv_rows && !key_rows && k.size(0) != q.size(0)) || k.size(1) != q.size(1) ||
      k.size(3) != q.size(3))
    throw std::invalid_argument("attention_one_query: q " + shape_str(q.shape()) + ", k " +
                                shape_str(k.shape()) + ", v " + shape_str(v.shape()) +
                                " must be (B, H, 1, Dh), (Bk, H, Tk, Dh), (Bk, H, Tk, Dh)");
  if (kv_rows) {
    if (static_cast<int64_t>(kv_rows->size()) != q.size(0))
      throw std::invalid_argument("attention_one_query: " + std::to_string(kv_rows->size()) +
                                  " key rows for " + std::to_string(q.size(0)) + " queries");
    for (int64_t r : *kv_rows)
      if (r < 0 || r >= k.size(0))
        throw std::invalid_argument("attention_one_query: key row " + std::to_string(r) +
                                    " out of " + std::to_string(k.size(0)));
  }
  if (key_rows) {
    if (kv_rows || mask)
      throw std::invalid_argument("attention_one_query: key_rows take no kv_rows and no mask");
    if (static_cast<int64_t>(key_rows->size()) != q.size(0) * k.size(2))
      throw std::invalid_argument("attention_one_query: " + std::to_string(key_rows->size()) +
                                  " key rows for " + std::to_string(q.size(0)) + " queries of " +
                                  std::to_string(k.size(2)) + " keys");
    for (int64_t r : *key_rows)
      if (r < 0 || r >= k.size(0))
        throw std::invalid_argument("attention_one_query: key row " + std::to_string(r) +
                                    " out of " + std::to_string(k.size(0)));
  }
  if (q.dtype() != k.dtype() || q.dtype() != v.dtype())
    throw std::invalid_argument("attention_one_query: q, k and v must have one dtype");
  if (grad_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad()))
    throw std::logic_error("attention_one_query: inference only (no gradient)");
  const Tensor qc = q.strides()[3] == 1 ? q : q.contiguous_data();
  const Tensor kc = k.strides()[3] == 1 ? k : k.contiguous_data();
  const Tensor vc = v.strides()[3] == 1 ? v : v.contiguous_data();
  const int64_t B = q.size(0), H = q.size(1), Tk = k.size(2), Dh = q.size(3);
  const Shape ms = mask ? broadcast_strides(mask->shape, {k.size(0), H, 1, Tk}) : Shape(4, 0);
  Tensor y = Tensor::empty({B, 1, H * Dh}, q.dtype());
  dispatch(q.dtype(), [&](auto z) {
    using T = decltype(z);
    one_query<T>(qc, kc, vc, mask ? mask->data.data() : nullptr, ms, scale, kv_rows, key_rows, y);
  });
  return y;
}

}  // namespace sg
