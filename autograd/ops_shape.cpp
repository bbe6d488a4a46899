// Shape ops. transpose, permute, slice and broadcast_to are views (no copy); reshape is a view
// whenever the elements allow one (as torch.reshape), else a copy; concat and contiguous copy.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <optional>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace sg {

namespace {

// `want` with its -1 (at most one) filled in so that it holds `numel` elements.
Shape resolve_shape(const Shape& from, const Shape& want) {
  const int64_t numel = shape_numel(from);
  auto fail = [&](const std::string& why) {
    return std::invalid_argument("reshape: cannot reshape " + shape_str(from) + " (" +
                                 std::to_string(numel) + " elements) into " + shape_str(want) +
                                 ": " + why);
  };
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == -1) {
      if (infer >= 0) throw fail("more than one -1");
      infer = static_cast<int64_t>(i);
    } else if (want[i] < 0) {
      throw fail("negative dimension");
    } else {
      known *= want[i];
    }
  }
  Shape out = want;
  if (infer >= 0) {
    if (known == 0 || numel % known != 0) throw fail("size mismatch");
    out[infer] = numel / known;
  } else if (known != numel) {
    throw fail("size mismatch");
  }
  return out;
}

// The view x[..., start : start + len * step : step, ...] along dim (start, len already clamped).
Tensor slice_view(const Tensor& x, int64_t dim, int64_t start, int64_t len, int64_t step) {
  Shape sh = x.shape(), st = x.strides();
  const int64_t offset = x.offset() + (len > 0 ? start * st[dim] : 0);
  sh[dim] = len;
  st[dim] *= step;
  return Tensor::view_of(x, sh, st, offset);
}

}  // namespace

// ---- reshape: x (any) -> `shape` with the same numel. A view when view_strides finds one, else
// a copy.
// Backward: reshape the gradient back to x's shape.
// Strides under which `shape` views the same elements as (old_shape, old_strides) in row-major
// order, or nothing if a copy is needed (PyTorch's computeStride): dims of the old tensor that are
// laid out contiguously with each other form chunks, and each chunk must be split or merged
// exactly by the new dims.
static std::optional<Shape> view_strides(const Shape& old_shape, const Shape& old_strides,
                                         const Shape& shape) {
  if (old_shape.empty() || shape_numel(old_shape) == 0) return contiguous_strides(shape);
  Shape st(shape.size(), 1);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base = old_strides.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        st[view_d] = view_numel * chunk_base;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base = old_strides[d - 1];
        tensor_numel = view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return st;
}

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  const Shape shape = resolve_shape(x.shape(), shape_in);
  const auto st = view_strides(x.shape(), x.strides(), shape);
  const Tensor xc = st ? x : x.contiguous_data();
  Tensor y = Tensor::view_of(xc, shape, st ? *st : contiguous_strides(shape), xc.offset());
  const Shape xshape = x.shape();
  return record(y, "reshape", {x}, [xshape](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{reshape(g, xshape)};
  });
}

// ---- transpose: swap two dims of the view. Backward: transpose the gradient back.
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  d0 = wrap_dim(d0, x.dim(), "transpose");
  d1 = wrap_dim(d1, x.dim(), "transpose");
  Shape sh = x.shape(), st = x.strides();
  std::swap(sh[d0], sh[d1]);
  std::swap(st[d0], st[d1]);
  Tensor y = Tensor::view_of(x, sh, st, x.offset());
  return record(y, "transpose", {x}, [d0, d1](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{transpose(g, d0, d1)};
  });
}

// ---- permute: y dim i is x dim dims[i] (a view). Backward: permute by the inverse, inv[dims[i]] =
// i.
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t nd = x.dim();
  if (static_cast<int64_t>(dims.size()) != nd)
    throw std::invalid_argument("permute: " + std::to_string(dims.size()) + " dims for a " +
                                std::to_string(nd) + "-d tensor");
  Shape sh(nd), st(nd);
  std::vector<int64_t> inv(nd, -1);
  for (int64_t i = 0; i < nd; ++i) {
    const int64_t d = wrap_dim(dims[i], nd, "permute");
    if (inv[d] >= 0) throw std::invalid_argument("permute: dim " + std::to_string(d) + " repeated");
    inv[d] = i;
    sh[i] = x.shape()[d];
    st[i] = x.strides()[d];
  }
  Tensor y = Tensor::view_of(x, sh, st, x.offset());
  return record(y, "permute", {x}, [inv](const Tensor& g, const std::vector<bool>&) {
    return std::vector<Tensor>{permute(g, inv)};
  });
}

// ---- slice: x[start:end:step] along dim, a view. start/end clamp like Python slicing (negative
// counts from the end); step >= 1. Backward: gx is g inside the slice and 0 elsewhere, which the
// engine adds straight into the slice of x's accumulated gradient (record_window).
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = wrap_dim(dim, x.dim(), "slice");
  if (step < 1)
    throw std::invalid_argument("slice: step must be >= 1, got " + std::to_string(step));
  const int64_t n = x.shape()[dim];
  auto clamp = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  start = clamp(start);
  end = clamp(end);
  const int64_t len = end > start ? (end - start + step - 1) / step : 0;
  Tensor y = slice_view(x, dim, start, len, step);
  return record_window(y, "slice", x, [dim, start, len, step](const Tensor& gx) {
    return slice_view(gx, dim, start, len, step);
  });
}

// ---- concat: xs[i] (..., n_i, ...) along dim -> (..., sum n_i, ...), a copy.
// Backward: input i's gradient is the slice [off_i, off_i + n_i) of g along dim.
Tensor concat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) throw std::invalid_argument("concat: no tensors");
  const Tensor& x0 = xs[0];
  dim = wrap_dim(dim, x0.dim(), "concat");
  Shape shape = x0.shape();
  shape[dim] = 0;
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) {
    Shape s = x.shape();
    if (x.dim() == x0.dim()) s[dim] = 0;
    if (x.dtype() != x0.dtype() || s != shape)
      throw std::invalid_argument("concat: " + shape_str(x.shape()) + " " + dtype_name(x.dtype()) +
                                  " does not match " + shape_str(x0.shape()) + " " +
                                  dtype_name(x0.dtype()) + " outside dim " + std::to_string(dim));
    sizes.push_back(x.shape()[dim]);
  }
  shape[dim] = std::accumulate(sizes.begin(), sizes.end(), int64_t{0});
  Tensor y = Tensor::empty(shape, x0.dtype());
  // y viewed as (outer, shape[dim] * inner) rows; input i fills a block of columns in each row.
  const int64_t outer = shape_numel(Shape(shape.begin(), shape.begin() + dim));
  const int64_t inner = shape_numel(Shape(shape.begin() + dim + 1, shape.end()));
  const size_t esz = dtype_size(x0.dtype());
  const size_t row = static_cast<size_t>(shape[dim] * inner) * esz;
  char* py = static_cast<char*>(y.raw_data());
  int64_t col = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor xc = xs[i].contiguous_data();
    const char* px = static_cast<const char*>(xc.raw_data());
    const size_t block = static_cast<size_t>(sizes[i] * inner) * esz;
    if (block > 0)
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(py + o * row + col * inner * esz, px + o * block, block);
    col += sizes[i];
  }
  return record(y, "concat", xs, [dim, sizes](const Tensor& g, const std::vector<bool>& needs) {
    std::vector<Tensor> gx(sizes.size());
    int64_t off = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (needs[i]) gx[i] = slice(g, dim, off, off + sizes[i]);
      off += sizes[i];
    }
    return gx;
  });
}

// ---- contiguous: same values in row-major layout (x itself when already contiguous).
// Backward: identity.
Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  Tensor y = x.contiguous_data();
  return record(y, "contiguous", {x},
                [](const Tensor& g, const std::vector<bool>&) { return std::vector<Tensor>{g}; });
}

}  // namespace sg
