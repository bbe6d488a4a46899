// Neural-network ops: softmax, log_softmax, layer_norm, embedding, masked_fill and masked_softmax
// (dropout and cross_entropy are in ops_dropout_loss.cpp). Each op is a fused forward kernel, its
// backward kernel directly below, and the public function that runs the forward and records the
// backward. Kernels loop over rows; rows are independent and run in parallel, while every
// reduction runs in a fixed order within its thread (summing in double), so results are
// deterministic and do not depend on the number of threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"

namespace sg {

namespace {

using Unit = std::integral_constant<int64_t, 1>;

// The rows of length n along one dim of a contiguous tensor of shape (outer, n, inner): row
// r = (o, i) starts at o * n * inner + i and steps by inner. For the last dim inner == 1, and the
// rows are contiguous.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;
  int64_t count() const { return outer * inner; }
  int64_t start(int64_t r) const { return (r / inner) * n * inner + r % inner; }
};

Rows rows_along(const Shape& s, int64_t dim) {
  Rows r;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d) {
    if (d < dim) r.outer *= s[d];
    if (d == dim) r.n = s[d];
    if (d > dim) r.inner *= s[d];
  }
  return r;
}

// Calls f(r, start, stride) for every row, in parallel over rows. For contiguous rows the stride
// is the compile-time constant 1, so the inner loops vectorize.
template <class F>
void for_rows(const Rows& rows, F f) {
  parallel_for(rows.count(), row_grain(rows.n), [&](int64_t b, int64_t e) {
    if (rows.inner == 1) {
      for (int64_t r = b; r < e; ++r) f(r, r * rows.n, Unit{});
    } else {
      for (int64_t r = b; r < e; ++r) f(r, rows.start(r), rows.inner);
    }
  });
}

// The dim a softmax-like op reduces over; a 0-d tensor is one row of one element.
Rows softmax_rows(const Tensor& x, int64_t dim, const char* op) {
  if (x.dim() == 0) {
    wrap_dim(dim, 1, op);
    return Rows{};
  }
  return rows_along(x.shape(), wrap_dim(dim, x.dim(), op));
}

// sum_{i < n} f(i) in double, in kLanes interleaved partial sums added up in a fixed order: the
// compiler vectorizes it (one running sum is a serial chain it may not reorder), and the result
// still depends only on n, never on timing or threads.
template <class F>
double lane_sum(int64_t n, F f) {
  constexpr int64_t kLanes = 16;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int64_t j = 0; j < kLanes; ++j) acc[j] += f(i + j);
  double s = 0;
  for (; i < n; ++i) s += f(i);
  for (int64_t j = 0; j < kLanes; ++j) s += acc[j];
  return s;
}

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// ---- softmax. x, y: (..., n, ...) with rows of n along dim.
// y_k = exp(x_k - m) / sum_j exp(x_j - m), m = max_j x_j. A row of all -inf gives y = 0.
template <class T>
void softmax_forward(const T* x, T* y, const Rows& rows) {
  const int64_t n = rows.n;
  for_rows(rows, [&](int64_t, int64_t o, auto s) {
    const T* xr = x + o;
    T* yr = y + o;
    T m = static_cast<T>(kNegInf);
    for (int64_t k = 0; k < n; ++k) m = std::max(m, xr[k * s]);
    if (m == static_cast<T>(kNegInf)) {
      for (int64_t k = 0; k < n; ++k) yr[k * s] = T(0);
      return;
    }
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) {
      const T e = std::exp(xr[k * s] - m);
      yr[k * s] = e;
      sum += e;
    }
    const T inv = static_cast<T>(1.0 / sum);
    for (int64_t k = 0; k < n; ++k) yr[k * s] *= inv;
  });
}

// dL/dx_k = scale y_k (g_k - sum_j g_j y_j), scale 1 unless the input was scaled first
// (masked_softmax). A fully masked row has y = 0, so its gradient is 0.
template <class T>
void softmax_backward(const T* y, const T* g, T* gx, const Rows& rows, T scale) {
  const int64_t n = rows.n;
  for_rows(rows, [&](int64_t, int64_t o, auto s) {
    const T *yr = y + o, *gr = g + o;
    T* gxr = gx + o;
    const T d = static_cast<T>(
        lane_sum(n, [&](int64_t k) { return static_cast<double>(gr[k * s]) * yr[k * s]; }));
    if (scale == T(1))
      for (int64_t k = 0; k < n; ++k) gxr[k * s] = yr[k * s] * (gr[k * s] - d);
    else
      for (int64_t k = 0; k < n; ++k) gxr[k * s] = scale * (yr[k * s] * (gr[k * s] - d));
  });
}

}  // namespace

Tensor softmax(const Tensor& x_in, int64_t dim) {
  const Rows rows = softmax_rows(x_in, dim, "softmax");
  const Tensor x = x_in.contiguous_data();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    softmax_forward(x.data<T>(), y.data<T>(), rows);
  });
  if (!needs_record({&x_in})) return y;
  const Tensor ys = y.detach();  // backward needs only the output
  return record(y, "softmax", {x_in}, [ys, rows](const Tensor& g_in, const std::vector<bool>&) {
    const Tensor g = g_in.contiguous_data();
    Tensor gx = Tensor::empty(ys.shape(), ys.dtype());
    dispatch(ys.dtype(), [&](auto z) {
      using T = decltype(z);
      softmax_backward(ys.data<T>(), g.data<T>(), gx.data<T>(), rows, T(1));
    });
    return std::vector<Tensor>{gx};
  });
}

namespace {

// ---- log_softmax. x, y: (..., n, ...) with rows of n along dim; masked: (rows), 1 per row.
// y_k = x_k - m - log sum_j exp(x_j - m), m = max_j x_j. A row of all -inf (fully masked) gives
// y = 0 and is flagged in `masked` so that its gradient is 0 too (PyTorch gives NaN there).
template <class T>
void log_softmax_forward(const T* x, T* y, uint8_t* masked, const Rows& rows) {
  const int64_t n = rows.n;
  for_rows(rows, [&](int64_t r, int64_t o, auto s) {
    const T* xr = x + o;
    T* yr = y + o;
    T m = static_cast<T>(kNegInf);
    for (int64_t k = 0; k < n; ++k) m = std::max(m, xr[k * s]);
    masked[r] = m == static_cast<T>(kNegInf);
    if (masked[r]) {
      for (int64_t k = 0; k < n; ++k) yr[k * s] = T(0);
      return;
    }
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) sum += std::exp(xr[k * s] - m);
    const T shift = m + static_cast<T>(std::log(sum));
    for (int64_t k = 0; k < n; ++k) yr[k * s] = xr[k * s] - shift;
  });
}

// dL/dx_k = g_k - exp(y_k) sum_j g_j; 0 on a fully masked row.
template <class T>
void log_softmax_backward(const T* y, const T* g, const uint8_t* masked, T* gx, const Rows& rows) {
  const int64_t n = rows.n;
  for_rows(rows, [&](int64_t r, int64_t o, auto s) {
    const T *yr = y + o, *gr = g + o;
    T* gxr = gx + o;
    if (masked[r]) {
      for (int64_t k = 0; k < n; ++k) gxr[k * s] = T(0);
      return;
    }
    double sum = 0;
    for (int64_t k = 0; k < n; ++k) sum += gr[k * s];
    const T gs = static_cast<T>(sum);
    for (int64_t k = 0; k < n; ++k) gxr[k * s] = gr[k * s] - std::exp(yr[k * s]) * gs;
  });
}

}  // namespace

Tensor log_softmax(const Tensor& x_in, int64_t dim) {
  const Rows rows = softmax_rows(x_in, dim, "log_softmax");
  const Tensor x = x_in.contiguous_data();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  auto masked = std::make_shared<std::vector<uint8_t>>(rows.count());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    log_softmax_forward(x.data<T>(), y.data<T>(), masked->data(), rows);
  });
  if (!needs_record({&x_in})) return y;
  const Tensor ys = y.detach();
  return record(
      y, "log_softmax", {x_in}, [ys, masked, rows](const Tensor& g_in, const std::vector<bool>&) {
        const Tensor g = g_in.contiguous_data();
        Tensor gx = Tensor::empty(ys.shape(), ys.dtype());
        dispatch(ys.dtype(), [&](auto z) {
          using T = decltype(z);
          log_softmax_backward(ys.data<T>(), g.data<T>(), masked->data(), gx.data<T>(), rows);
        });
        return std::vector<Tensor>{gx};
      });
}

namespace {

// ---- layer_norm over the last dim. x, y: (R, C) (all leading dims flattened into R rows);
// w, b: (C) or null; mean, rstd: (R).
// mean = sum_c x_c / C, var = sum_c (x_c - mean)^2 / C (biased), rstd = 1 / sqrt(var + eps),
// y = (x - mean) * rstd * w + b.
template <class T>
void layer_norm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t R,
                        int64_t C, double eps) {
  parallel_for(R, row_grain(C), [&](int64_t rb, int64_t re) {
    for (int64_t r = rb; r < re; ++r) {
      const T* xr = x + r * C;
      T* yr = y + r * C;
      const double mu = lane_sum(C, [&](int64_t c) { return static_cast<double>(xr[c]); }) / C;
      const double sq = lane_sum(C, [&](int64_t c) {
        const double d = xr[c] - mu;
        return d * d;
      });
      const T m = static_cast<T>(mu), rs = static_cast<T>(1.0 / std::sqrt(sq / C + eps));
      mean[r] = m;
      rstd[r] = rs;
      if (w && b)
        for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - m) * rs * w[c] + b[c];
      else if (w)
        for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - m) * rs * w[c];
      else if (b)
        for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - m) * rs + b[c];
      else
        for (int64_t c = 0; c < C; ++c) yr[c] = (xr[c] - m) * rs;
    }
  });
}

// With xhat = (x - mean) * rstd and gh = g * w (g without w):
//   gx = rstd * (gh - mean_c(gh) - xhat * mean_c(gh * xhat))
//   gw = sum_rows g * xhat,  gb = sum_rows g
// One pass over fixed blocks of kLnBlock rows, in parallel over blocks: each block writes its
// rows of gx and its own partial sums of gw and gb (in double), which are then added up block by
// block in order. Blocks do not depend on the thread count, so neither do the results.
constexpr int64_t kLnBlock = 32;

template <class T>
void layer_norm_backward(const T* x, const T* w, const T* mean, const T* rstd, const T* g, T* gx,
                         T* gw, T* gb, int64_t R, int64_t C) {
  const int64_t nblocks = (R + kLnBlock - 1) / kLnBlock;
  std::vector<double> pw(gw ? nblocks * C : 0, 0.0), pb(gb ? nblocks * C : 0, 0.0);
  // has_w is a compile-time flag, so the inner loops carry no branch and vectorize.
  auto blocks = [&](int64_t kb, int64_t ke, auto has_w) {
    for (int64_t k = kb; k < ke; ++k) {
      double* aw = gw ? pw.data() + k * C : nullptr;
      double* ab = gb ? pb.data() + k * C : nullptr;
      for (int64_t r = k * kLnBlock; r < std::min(R, (k + 1) * kLnBlock); ++r) {
        const T *xr = x + r * C, *gr = g + r * C;
        const T m = mean[r], rs = rstd[r];
        if (aw)
          for (int64_t c = 0; c < C; ++c) aw[c] += static_cast<double>(gr[c]) * ((xr[c] - m) * rs);
        if (ab)
          for (int64_t c = 0; c < C; ++c) ab[c] += gr[c];
        if (!gx) continue;
        auto gh = [&](int64_t c) {
          if constexpr (decltype(has_w)::value)
            return gr[c] * w[c];
          else
            return gr[c];
        };
        const double sum_gh = lane_sum(C, [&](int64_t c) { return static_cast<double>(gh(c)); });
        const double sum_ghx =
            lane_sum(C, [&](int64_t c) { return static_cast<double>(gh(c)) * ((xr[c] - m) * rs); });
        const T a = static_cast<T>(sum_gh / C), bb = static_cast<T>(sum_ghx / C);
        T* gxr = gx + r * C;
        for (int64_t c = 0; c < C; ++c) gxr[c] = rs * (gh(c) - a - (xr[c] - m) * rs * bb);
      }
    }
  };
  parallel_for(nblocks, row_grain(kLnBlock * C), [&](int64_t kb, int64_t ke) {
    if (w)
      blocks(kb, ke, std::true_type{});
    else
      blocks(kb, ke, std::false_type{});
  });
  if (!gw && !gb) return;
  parallel_for(C, row_grain(nblocks), [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      double sw = 0, sb = 0;
      for (int64_t k = 0; k < nblocks; ++k) {
        if (gw) sw += pw[k * C + c];
        if (gb) sb += pb[k * C + c];
      }
      if (gw) gw[c] = static_cast<T>(sw);
      if (gb) gb[c] = static_cast<T>(sb);
    }
  });
}

}  // namespace

Tensor layer_norm(const Tensor& x_in, const Tensor& w_in, const Tensor& b_in, double eps) {
  if (x_in.dim() == 0) throw std::invalid_argument("layer_norm: x must have at least one dim");
  const int64_t C = x_in.shape().back(), R = C == 0 ? 0 : x_in.numel() / C;
  for (const Tensor* p : {&w_in, &b_in}) {
    if (p->defined() && p->shape() != Shape{C})
      throw std::invalid_argument("layer_norm: weight/bias shape " + shape_str(p->shape()) +
                                  " does not match the normalized dim " + std::to_string(C));
    check_same_dtype("layer_norm", x_in, *p);
  }
  const Tensor x = x_in.contiguous_data();
  const Tensor w = w_in.defined() ? w_in.contiguous_data() : Tensor();
  const Tensor b = b_in.defined() ? b_in.contiguous_data() : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({R}, x.dtype()), rstd = Tensor::empty({R}, x.dtype());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    layer_norm_forward(x.data<T>(), w.defined() ? w.data<T>() : nullptr,
                       b.defined() ? b.data<T>() : nullptr, y.data<T>(), mean.data<T>(),
                       rstd.data<T>(), R, C, eps);
  });
  if (!needs_record({&x_in, &w_in, &b_in})) return y;
  // Saves x (shared with the input), w, and the per-row mean and rstd; xhat is recomputed.
  const Tensor xs = x.detach(), ws = w.defined() ? w.detach() : Tensor();
  const bool has_b = b.defined();
  return record(
      y, "layer_norm", {x_in, w_in, b_in},
      [xs, ws, has_b, mean, rstd, R, C](const Tensor& g_in, const std::vector<bool>& needs) {
        const Tensor g = g_in.contiguous_data();
        std::vector<Tensor> grads(3);
        if (needs[0]) grads[0] = Tensor::empty(xs.shape(), xs.dtype());
        if (needs[1] && ws.defined()) grads[1] = Tensor::empty({C}, xs.dtype());
        if (needs[2] && has_b) grads[2] = Tensor::empty({C}, xs.dtype());
        dispatch(xs.dtype(), [&](auto z) {
          using T = decltype(z);
          auto ptr = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
          layer_norm_backward(xs.data<T>(), ptr(ws), mean.data<T>(), rstd.data<T>(), g.data<T>(),
                              ptr(grads[0]), ptr(grads[1]), ptr(grads[2]), R, C);
        });
        return grads;
      });
}

namespace {

// ---- embedding. weight: (V, C), ids: (N) (any shape, flattened), y: (N, C).
// y_i = weight[ids_i].
template <class T>
void embedding_forward(const T* w, const int64_t* ids, T* y, int64_t N, int64_t C) {
  parallel_for(N, row_grain(C), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) std::memcpy(y + i * C, w + ids[i] * C, C * sizeof(T));
  });
}

// gw[v] = sum over i with ids_i == v of g_i. Parallel over columns, each column summed over the
// ids in order: deterministic, and no two threads write one element.
template <class T>
void embedding_backward(const int64_t* ids, const T* g, T* gw, int64_t N, int64_t C) {
  parallel_for(C, row_grain(N), [&](int64_t cb, int64_t ce) {
    for (int64_t i = 0; i < N; ++i) {
      const T* gr = g + i * C;
      T* gwr = gw + ids[i] * C;
      for (int64_t c = cb; c < ce; ++c) gwr[c] += gr[c];
    }
  });
}

}  // namespace

Tensor embedding(const Tensor& weight_in, const IntTensor& ids) {
  if (weight_in.dim() != 2)
    throw std::invalid_argument("embedding: weight must be (V, C), got " +
                                shape_str(weight_in.shape()));
  const int64_t V = weight_in.size(0), C = weight_in.size(1), N = ids.numel();
  for (int64_t id : ids.data)
    if (id < 0 || id >= V)
      throw std::invalid_argument("embedding: id " + std::to_string(id) + " out of range [0, " +
                                  std::to_string(V) + ")");
  const Tensor w = weight_in.contiguous_data();
  Shape oshape = ids.shape;
  oshape.push_back(C);
  Tensor y = Tensor::empty(oshape, w.dtype());
  dispatch(w.dtype(), [&](auto z) {
    using T = decltype(z);
    embedding_forward(w.data<T>(), ids.data.data(), y.data<T>(), N, C);
  });
  if (!needs_record({&weight_in})) return y;
  auto saved_ids = std::make_shared<const std::vector<int64_t>>(ids.data);
  const DType dt = w.dtype();
  return record(y, "embedding", {weight_in},
                [saved_ids, dt, V, C, N](const Tensor& g_in, const std::vector<bool>&) {
                  const Tensor g = g_in.contiguous_data();
                  Tensor gw = Tensor::zeros({V, C}, dt);
                  dispatch(dt, [&](auto z) {
                    using T = decltype(z);
                    embedding_backward(saved_ids->data(), g.data<T>(), gw.data<T>(), N, C);
                  });
                  return std::vector<Tensor>{gw};
                });
}

namespace {

// ---- masked_fill. x, y: (..., L); mask: broadcastable to x (e.g. (B,1,1,Tk) onto (B,H,Tq,Tk)),
// read through strides aligned to x's dims (0 on broadcast dims).
// y = mask ? value : x. Backward is the same kernel with value 0: gx = mask ? 0 : g.
template <class T>
void masked_fill_kernel(const T* x, T* y, const Shape& shape, const Shape& mstrides,
                        const int64_t* mask, T value) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t L = nd == 0 ? 1 : shape.back(), ms = nd == 0 ? 0 : mstrides.back();
  const int64_t R = L == 0 ? 0 : shape_numel(shape) / L;
  parallel_for(R, row_grain(L), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* xr = x + r * L;
      T* yr = y + r * L;
      const int64_t* mr = mask + strided_offset(r, shape, mstrides, nd - 1);
      for (int64_t k = 0; k < L; ++k) yr[k] = mr[k * ms] != 0 ? value : xr[k];
    }
  });
}

// Strides that read a mask of shape `mshape` as if broadcast to `shape`; throws unless it
// broadcasts.
Shape mask_strides(const Shape& mshape, const Shape& shape, const char* op) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t lead = nd - static_cast<int64_t>(mshape.size());
  bool fits = lead >= 0;
  try {
    fits = fits && broadcast_shapes(mshape, shape) == shape;
  } catch (const std::invalid_argument&) {
    fits = false;
  }
  if (!fits)
    throw std::invalid_argument(std::string(op) + ": mask " + shape_str(mshape) +
                                " does not broadcast to " + shape_str(shape));
  const Shape ms = contiguous_strides(mshape);
  Shape st(nd, 0);
  for (int64_t d = lead; d < nd; ++d)
    if (mshape[d - lead] != 1) st[d] = ms[d - lead];
  return st;
}

}  // namespace

Tensor masked_fill(const Tensor& x_in, const IntTensor& mask, double value) {
  const Shape mst = mask_strides(mask.shape, x_in.shape(), "masked_fill");
  const Tensor x = x_in.contiguous_data();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    masked_fill_kernel(x.data<T>(), y.data<T>(), x.shape(), mst, mask.data.data(),
                       static_cast<T>(value));
  });
  if (!needs_record({&x_in})) return y;
  auto saved = std::make_shared<const std::vector<int64_t>>(mask.data);
  const Shape shape = x.shape();
  return record(y, "masked_fill", {x_in},
                [saved, mst, shape](const Tensor& g_in, const std::vector<bool>&) {
                  const Tensor g = g_in.contiguous_data();
                  Tensor gx = Tensor::empty(shape, g.dtype());
                  dispatch(g.dtype(), [&](auto z) {
                    using T = decltype(z);
                    masked_fill_kernel(g.data<T>(), gx.data<T>(), shape, mst, saved->data(), T(0));
                  });
                  return std::vector<Tensor>{gx};
                });
}

namespace {

// ---- masked_softmax over the last dim, fusing attention's scale, mask and softmax. x, y: (R, L)
// (leading dims flattened); mask read through strides as in masked_fill.
// s_k = mask_k ? -inf : scale * x_k, y = softmax(s); a fully masked row gives y = 0.
template <class T>
void masked_softmax_forward(const T* x, T* y, const Shape& shape, const Shape& mst,
                            const int64_t* mask, T scale) {
  const int64_t nd = static_cast<int64_t>(shape.size()), L = shape.back();
  const int64_t R = L == 0 ? 0 : shape_numel(shape) / L, ms = mask ? mst.back() : 0;
  parallel_for(R, row_grain(L), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* xr = x + r * L;
      T* yr = y + r * L;
      const int64_t* mr = mask ? mask + strided_offset(r, shape, mst, nd - 1) : nullptr;
      auto live = [&](int64_t k) { return !mr || mr[k * ms] == 0; };
      T m = static_cast<T>(kNegInf);
      for (int64_t k = 0; k < L; ++k)
        if (live(k)) m = std::max(m, scale * xr[k]);
      if (m == static_cast<T>(kNegInf)) {
        std::fill(yr, yr + L, T(0));
        continue;
      }
      double sum = 0;
      for (int64_t k = 0; k < L; ++k) {
        yr[k] = live(k) ? std::exp(scale * xr[k] - m) : T(0);
        sum += yr[k];
      }
      const T inv = static_cast<T>(1.0 / sum);
      for (int64_t k = 0; k < L; ++k) yr[k] *= inv;
    }
  });
}

}  // namespace

Tensor masked_softmax(const Tensor& x_in, const IntTensor* mask, double scale) {
  if (x_in.dim() == 0) throw std::invalid_argument("masked_softmax: x must have at least one dim");
  const Shape mst = mask ? mask_strides(mask->shape, x_in.shape(), "masked_softmax") : Shape{};
  const Tensor x = x_in.contiguous_data();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    masked_softmax_forward(x.data<T>(), y.data<T>(), x.shape(), mst,
                           mask ? mask->data.data() : nullptr, static_cast<T>(scale));
  });
  if (!needs_record({&x_in})) return y;
  const Tensor ys = y.detach();  // backward needs only the output
  return record(y, "masked_softmax", {x_in},
                [ys, scale](const Tensor& g_in, const std::vector<bool>&) {
                  const Tensor g = g_in.contiguous_data();
                  Tensor gx = Tensor::empty(ys.shape(), ys.dtype());
                  // Masked entries have y = 0, so their gradient is 0.
                  dispatch(ys.dtype(), [&](auto z) {
                    using T = decltype(z);
                    softmax_backward(ys.data<T>(), g.data<T>(), gx.data<T>(),
                                     rows_along(ys.shape(), ys.dim() - 1), static_cast<T>(scale));
                  });
                  return std::vector<Tensor>{gx};
                });
}

}  // namespace sg
