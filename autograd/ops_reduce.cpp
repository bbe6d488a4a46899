// Broadcasting (broadcast_to and its adjoint sum_to) and reductions over axes.
#include <algorithm>
#include <limits>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace sg {

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument("broadcast: shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " are not broadcastable");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// Sets, for a row-major walk over `shape`, f(linear index, offset in a tensor with `strides`).
template <class F>
void walk(const Shape& shape, const Shape& strides, F f) {
  const int64_t nd = static_cast<int64_t>(shape.size()), n = shape_numel(shape);
  std::vector<int64_t> idx(nd, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, off);
    for (int64_t d = nd - 1; d >= 0; --d) {
      off += strides[d];
      if (++idx[d] < shape[d]) break;
      off -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

// Normalized, sorted, unique axes; empty `axes` means all.
std::vector<int64_t> norm_axes(const std::vector<int64_t>& axes, int64_t nd, const char* op) {
  std::vector<int64_t> out;
  if (axes.empty())
    for (int64_t d = 0; d < nd; ++d) out.push_back(d);
  for (int64_t a : axes) out.push_back(wrap_dim(a, nd, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    throw std::invalid_argument(std::string(op) + ": repeated axis");
  return out;
}

Shape keep_shape(const Shape& s, const std::vector<int64_t>& axes) {
  Shape k = s;
  for (int64_t a : axes) k[a] = 1;
  return k;
}

Shape drop_shape(const Shape& s, const std::vector<int64_t>& axes) {
  Shape k;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) k.push_back(s[d]);
  return k;
}

// Strides of a contiguous tensor of shape `keep`, with 0 where keep has a reduced (size-1) dim.
Shape reduce_strides(const Shape& full, const Shape& keep) {
  Shape st = contiguous_strides(keep);
  for (size_t d = 0; d < full.size(); ++d)
    if (keep[d] == 1 && full[d] != 1) st[d] = 0;
  return st;
}

// out (shape keep) = sum of x over the dims where keep is 1. Fixed serial order: deterministic.
Tensor sum_kernel(const Tensor& x_in, const Shape& keep) {
  const Tensor x = x_in.contiguous_data();
  Tensor out = Tensor::zeros(keep, x.dtype());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    walk(x.shape(), reduce_strides(x.shape(), keep), [&](int64_t i, int64_t o) { po[o] += px[i]; });
  });
  return out;
}

}  // namespace

// ---- broadcast_to: a stride-0 view. Backward: the gradient summed back to x's shape.
Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  const int64_t nd = static_cast<int64_t>(shape.size()), lead = nd - x.dim();
  if (lead < 0)
    throw std::invalid_argument("broadcast_to: cannot broadcast " + shape_str(x.shape()) + " to " +
                                shape_str(shape));
  Shape st(nd, 0);
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (x.shape()[d] == shape[lead + d])
      st[lead + d] = x.strides()[d];
    else if (x.shape()[d] != 1)
      throw std::invalid_argument("broadcast_to: cannot broadcast " + shape_str(x.shape()) +
                                  " to " + shape_str(shape));
  }
  Tensor y = Tensor::view_of(x, shape, st, x.offset());
  const Shape xshape = x.shape();
  return record(y, "broadcast_to", {x}, [xshape](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{sum_to(g, xshape)};
  });
}

// ---- sum_to: sums x over the dims that broadcasting to x.shape() expanded from `shape`.
// Backward: broadcast_to(g, x.shape()).
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  if (broadcast_shapes(shape, x.shape()) != x.shape())
    throw std::invalid_argument("sum_to: " + shape_str(x.shape()) + " is not a broadcast of " +
                                shape_str(shape));
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  Shape keep = x.shape();
  for (int64_t d = 0; d < x.dim(); ++d)
    if (d < lead || shape[d - lead] == 1) keep[d] = 1;
  Tensor y = sum_kernel(x, keep);
  y = Tensor::view_of(y, shape, contiguous_strides(shape), 0);
  const Shape xshape = x.shape();
  return record(y, "sum_to", {x}, [xshape](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{broadcast_to(g, xshape)};
  });
}

// ---- sum over axes. Backward: g (re-expanded to keepdim form) broadcast to x's shape.
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes_in, bool keepdim) {
  const auto axes = norm_axes(axes_in, x.dim(), "sum");
  const Shape keep = keep_shape(x.shape(), axes);
  Tensor y = sum_kernel(x, keep);
  const Shape oshape = keepdim ? keep : drop_shape(x.shape(), axes);
  y = Tensor::view_of(y, oshape, contiguous_strides(oshape), 0);
  const Shape xshape = x.shape();
  return record(y, "sum", {x}, [xshape, keep](const Tensor& g, const std::vector<bool>&) {
    const Tensor gk = Tensor::view_of(g.contiguous_data(), keep, contiguous_strides(keep), 0);
    return std::vector<Tensor>{broadcast_to(gk, xshape).contiguous_data()};
  });
}

Tensor sum(const Tensor& x) {
  return sum(x, {}, false);
}

// ---- mean = sum / count, composed (its gradient follows from sum's and mul's).
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes_in, bool keepdim) {
  const auto axes = norm_axes(axes_in, x.dim(), "mean");
  int64_t count = 1;
  for (int64_t a : axes) count *= x.shape()[a];
  return mul(sum(x, axes, keepdim), 1.0 / static_cast<double>(count));
}

Tensor mean(const Tensor& x) {
  return mean(x, {}, false);
}

// ---- max over axes. Backward: g flows to the first position holding the maximum.
Tensor max(const Tensor& x_in, const std::vector<int64_t>& axes_in, bool keepdim) {
  const auto axes = norm_axes(axes_in, x_in.dim(), "max");
  const Tensor x = x_in.contiguous_data();
  for (int64_t a : axes)
    if (x.shape()[a] == 0) throw std::invalid_argument("max: reduction over an empty dim");
  const Shape keep = keep_shape(x.shape(), axes);
  Tensor y = Tensor::empty(keep, x.dtype());
  auto arg = std::make_shared<std::vector<int64_t>>(shape_numel(keep), -1);
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    walk(x.shape(), reduce_strides(x.shape(), keep), [&](int64_t i, int64_t o) {
      if ((*arg)[o] < 0 || px[i] > py[o]) {
        py[o] = px[i];
        (*arg)[o] = i;
      }
    });
  });
  const Shape oshape = keepdim ? keep : drop_shape(x.shape(), axes);
  y = Tensor::view_of(y, oshape, contiguous_strides(oshape), 0);
  const Shape xshape = x.shape();
  const DType dt = x.dtype();
  return record(y, "max", {x_in}, [xshape, dt, arg](const Tensor& g_in, const std::vector<bool>&) {
    const Tensor g = g_in.contiguous_data();
    Tensor gx = Tensor::zeros(xshape, dt);
    dispatch(dt, [&](auto z) {
      using T = decltype(z);
      const T* pg = g.data<T>();
      T* po = gx.data<T>();
      for (size_t o = 0; o < arg->size(); ++o) po[(*arg)[o]] += pg[o];
    });
    return std::vector<Tensor>{gx};
  });
}

}  // namespace sg
