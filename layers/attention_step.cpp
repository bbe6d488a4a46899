#include "layers/attention_step.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
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

template <class T>
void one_query(const Tensor& q, const Tensor& k, const Tensor& v, const int64_t* mask,
               const Shape& ms, double scale_d, const std::vector<int64_t>* kv_rows, Tensor& y) {
  const int64_t B = q.size(0), H = q.size(1), Tk = k.size(2), Dh = q.size(3), C = H * Dh;
  const Shape &sq = q.strides(), &sk = k.strides(), &sv = v.strides();
  const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
  T* py = y.data<T>();
  const T scale = static_cast<T>(scale_d);
  parallel_for(B * H, row_grain(2 * Tk * Dh), [&](int64_t s, int64_t e) {
    std::vector<T> p(Tk);
    for (int64_t i = s; i < e; ++i) {
      const int64_t b = i / H, h = i % H, kb = kv_rows ? (*kv_rows)[b] : b;
      const T* qr = pq + b * sq[0] + h * sq[1];
      const T* kr = pk + kb * sk[0] + h * sk[1];
      const T* vr = pv + kb * sv[0] + h * sv[1];
      const int64_t* mr = mask ? mask + kb * ms[0] + h * ms[1] : nullptr;
      T* yr = py + b * C + h * Dh;
      // p_j = scale q . k_j, then masked_softmax over the live keys.
      T m = -std::numeric_limits<T>::infinity();
      for (int64_t j = 0; j < Tk; ++j) {
        if (mr && mr[j * ms[3]] != 0) continue;
        p[j] = scale * dot(qr, kr + j * sk[2], Dh);
        m = std::max(m, p[j]);
      }
      std::fill(yr, yr + Dh, T(0));
      if (m == -std::numeric_limits<T>::infinity()) continue;  // every key masked: y = 0
      double sum = 0;
      for (int64_t j = 0; j < Tk; ++j) {
        p[j] = mr && mr[j * ms[3]] != 0 ? T(0) : std::exp(p[j] - m);
        sum += p[j];
      }
      const T inv = static_cast<T>(1.0 / sum);
      // y = sum_j p_j v_j, key by key (each column independent: a vectorizable loop over d).
      for (int64_t j = 0; j < Tk; ++j) {
        const T pj = p[j] * inv;
        const T* vj = vr + j * sv[2];
        for (int64_t d = 0; d < Dh; ++d) yr[d] += pj * vj[d];
      }
    }
  });
}

}  // namespace

Tensor attention_one_query(const Tensor& q, const Tensor& k, const Tensor& v, const IntTensor* mask,
                           double scale, const std::vector<int64_t>* kv_rows) {
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4 || q.size(2) != 1 || k.shape() != v.shape() ||
      (!kv_rows && k.size(0) != q.size(0)) || k.size(1) != q.size(1) || k.size(3) != q.size(3))
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
    one_query<T>(qc, kc, vc, mask ? mask->data.data() : nullptr, ms, scale, kv_rows, y);
  });
  return y;
}

}  // namespace sg
