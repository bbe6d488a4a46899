// Matrix products on the GEMM wrapper of gemm.h (single-threaded OpenBLAS calls; a large product
// split over our threads by output rows or columns, batches of small products one per thread).
// Operands are passed to GEMM in place whenever their last two dims are a row-major matrix or the
// transpose of one (a transposed view becomes a CblasTrans flag, a sliced view a larger leading
// dim); only other layouts are copied. Backward products are single GEMM calls with flipped trans
// flags, so no transpose is ever materialized.
#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>

#include "autograd/engine.h"
#include "autograd/gemm.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"

namespace sg {

namespace {

// How a (R, C) matrix with strides (sr, sc) sits in memory for GEMM: row-major with leading dim
// ld (strides (ld, 1)), or `trans`: the transpose of a row-major (C, R) matrix (strides (1, ld)).
struct Layout {
  bool trans = false;
  int64_t ld = 1;
};

std::optional<Layout> gemm_layout(int64_t R, int64_t C, int64_t sr, int64_t sc) {
  if (R == 0 || C == 0) return Layout{false, std::max<int64_t>(C, 1)};  // never read
  if ((C == 1 || sc == 1) && (R == 1 || sr >= C)) return Layout{false, R == 1 ? C : sr};
  if ((R == 1 || sr == 1) && (C == 1 || sc >= R)) return Layout{true, C == 1 ? R : sc};
  return std::nullopt;
}

// A stack of (rows, cols) matrices x (..., rows, cols) as GEMM operands over a batch shape that
// x's batch dims broadcast to: one layout for all, per-batch offsets from bstrides (0 where
// broadcast). `t` is x itself (detached) or, when x's layout does not fit, a contiguous copy.
struct Operand {
  Tensor t;
  Layout lay;
  Shape bstrides;
  template <class T>
  const T* ptr() const {
    return t.data<T>();
  }
};

Operand make_operand(const Tensor& x, const Shape& batch) {
  const int64_t nd = x.dim(), R = x.shape()[nd - 2], C = x.shape()[nd - 1];
  Operand o;
  std::optional<Layout> lay = gemm_layout(R, C, x.strides()[nd - 2], x.strides()[nd - 1]);
  o.t = lay ? x.detach() : x.contiguous_data().detach();
  if (!lay) lay = gemm_layout(R, C, o.t.strides()[nd - 2], o.t.strides()[nd - 1]);
  o.lay = *lay;
  const int64_t nb = static_cast<int64_t>(batch.size()), xb = nd - 2;
  o.bstrides.assign(nb, 0);
  for (int64_t i = 0; i < xb; ++i)
    if (x.shape()[i] != 1) o.bstrides[nb - xb + i] = o.t.strides()[i];
  return o;
}

// x (..., C) as one (rows, C) matrix view when its leading dims merge into one strided dim
// (always true for a contiguous x); undefined otherwise.
Tensor collapse_rows(const Tensor& x) {
  const int64_t nd = x.dim(), C = x.shape()[nd - 1];
  int64_t rows = 1, rstride = -1, expect = 0;
  for (int64_t d = nd - 2; d >= 0; --d) {
    const int64_t s = x.shape()[d];
    if (s == 1) continue;
    if (rstride < 0)
      rstride = x.strides()[d];
    else if (x.strides()[d] != expect)
      return Tensor();
    expect = x.strides()[d] * s;
    rows *= s;
  }
  if (rstride < 0) rstride = std::max<int64_t>(C, 1);
  return Tensor::view_of(x, {rows, C}, {rstride, x.strides()[nd - 1]}, x.offset());
}

// x (..., C) as a (rows, C) GEMM operand, copying only if its leading dims do not merge.
Operand row_operand(const Tensor& x) {
  Tensor x2 = collapse_rows(x);
  if (!x2.defined()) x2 = collapse_rows(x.contiguous_data());
  return make_operand(x2, {});
}

int64_t operand_rows(const Operand& o) {
  return o.t.shape()[0];
}

// Below kSmallGemm multiply-adds per product (gemm.h), a batch of products runs in parallel over
// the batch, one single-threaded GEMM per product; above it, one product after another, each
// split over the threads by gemm(). Per-head attention products (T x T x C/H) are far below it,
// FFN ones far above.

// out[i] (m, n) = op(X[i]) op(Y[i]) for every index i of `batch`, out contiguous (batch..., m, n).
// fx / fy use X^T / Y^T instead (a flipped trans flag). Each product is written by one thread, or
// split by gemm() over output rows or columns, so results depend on neither timing nor threads.
template <class T>
void gemm_batched(const Shape& batch, const Operand& x, bool fx, const Operand& y, bool fy,
                  int64_t m, int64_t n, int64_t k, T* out) {
  const int64_t nb = static_cast<int64_t>(batch.size()), count = shape_numel(batch);
  const T *px = x.ptr<T>(), *py = y.ptr<T>();
  auto run = [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      gemm<T>(x.lay.trans != fx, y.lay.trans != fy, m, n, k, T(1),
              px + strided_offset(i, batch, x.bstrides, nb), x.lay.ld,
              py + strided_offset(i, batch, y.bstrides, nb), y.lay.ld, T(0), out + i * m * n, n);
  };
  if (count > 1 && m * n * k < kSmallGemm)
    parallel_for(count, row_grain(m * n * k), run);
  else
    run(0, count);
}

[[noreturn]] void mismatch(const char* op, const char* what, const Tensor& a, const Tensor& b,
                           const std::string& why) {
  throw std::invalid_argument(std::string(op) + ": " + what + " " + shape_str(a.shape()) + " " +
                              dtype_name(a.dtype()) + " and " + shape_str(b.shape()) + " " +
                              dtype_name(b.dtype()) + ": " + why);
}

Shape with_last2(Shape batch, int64_t r, int64_t c) {
  batch.push_back(r);
  batch.push_back(c);
  return batch;
}

// ---- matmul, 2-D b: a (..., M, K) with leading dims that merge into rows = prod(...) * M, so the
// whole product is one GEMM. y (rows, N) = A (rows, K) B (K, N).
// Backward: dA = dY B^T (rows, K), dB = A^T dY (K, N), one GEMM each.
Tensor matmul_rows(const Tensor& a, const Tensor& a2, const Tensor& b) {
  const int64_t rows = a2.shape()[0], K = b.shape()[0], N = b.shape()[1];
  const Operand A = make_operand(a2, {}), B = make_operand(b, {});
  Shape oshape = a.shape();
  oshape.back() = N;
  Tensor y = Tensor::empty(oshape, a.dtype());
  dispatch(a.dtype(), [&](auto z) {
    using T = decltype(z);
    gemm_batched<T>({}, A, false, B, false, rows, N, K, y.data<T>());
  });
  if (!needs_record({&a, &b})) return y;
  const Shape ashape = a.shape();
  return record(y, "matmul", {a, b},
                [A, B, ashape, rows, K, N](const Tensor& g, const std::vector<bool>& needs) {
                  const Operand G = row_operand(g);
                  std::vector<Tensor> d(2);
                  dispatch(g.dtype(), [&](auto z) {
                    using T = decltype(z);
                    if (needs[0]) {
                      d[0] = Tensor::empty(ashape, g.dtype());
                      gemm_batched<T>({}, G, false, B, true, rows, K, N, d[0].data<T>());
                    }
                    if (needs[1]) {
                      d[1] = Tensor::empty({K, N}, g.dtype());
                      gemm_batched<T>({}, A, true, G, false, K, N, rows, d[1].data<T>());
                    }
                  });
                  return d;
                });
}

}  // namespace

// ---- matmul: a (..., M, K) @ b (..., K, N) -> (..., M, N), batch dims broadcast.
// Per batch index i: C[i] = A[i] B[i]. Backward: dA[i] = dC[i] B[i]^T, dB[i] = A[i]^T dC[i];
// broadcast batch dims go through broadcast_to, so their gradients are summed by sum_to.
Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.dim() < 2 || b.dim() < 2) mismatch("matmul", "shapes", a, b, "both need at least 2 dims");
  if (a.dtype() != b.dtype()) mismatch("matmul", "shapes", a, b, "dtypes differ");
  const int64_t M = a.shape()[a.dim() - 2], K = a.shape()[a.dim() - 1];
  const int64_t N = b.shape()[b.dim() - 1];
  if (b.shape()[b.dim() - 2] != K)
    mismatch("matmul", "shapes", a, b, "a's columns do not match b's rows");
  if (b.dim() == 2) {
    const Tensor a2 = collapse_rows(a);
    if (a2.defined()) return matmul_rows(a, a2, b);
  }
  const Shape abatch(a.shape().begin(), a.shape().end() - 2);
  const Shape bbatch(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(abatch, bbatch);
  } catch (const std::invalid_argument&) {
    mismatch("matmul", "shapes", a, b, "batch dims do not broadcast");
  }
  const Operand A = make_operand(a, batch), B = make_operand(b, batch);
  Tensor y = Tensor::empty(with_last2(batch, M, N), a.dtype());
  dispatch(a.dtype(), [&](auto z) {
    using T = decltype(z);
    gemm_batched<T>(batch, A, false, B, false, M, N, K, y.data<T>());
  });
  if (!needs_record({&a, &b})) return y;
  const Tensor ae = broadcast_to(a, with_last2(batch, M, K));
  const Tensor be = broadcast_to(b, with_last2(batch, K, N));
  return record(y, "matmul", {ae, be},
                [A, B, batch, M, N, K](const Tensor& g, const std::vector<bool>& needs) {
                  const Operand G = make_operand(g, batch);
                  std::vector<Tensor> d(2);
                  dispatch(g.dtype(), [&](auto z) {
                    using T = decltype(z);
                    if (needs[0]) {
                      d[0] = Tensor::empty(with_last2(batch, M, K), g.dtype());
                      gemm_batched<T>(batch, G, false, B, true, M, K, N, d[0].data<T>());
                    }
                    if (needs[1]) {
                      d[1] = Tensor::empty(with_last2(batch, K, N), g.dtype());
                      gemm_batched<T>(batch, A, true, G, false, K, N, M, d[1].data<T>());
                    }
                  });
                  return d;
                });
}

// ---- linear: x (..., K), w (N, K), b (N) or undefined -> y (..., N) = x w^T + b.
// x's leading dims merge into rows R: Y (R, N) = X (R, K) W^T + 1 b^T, one GEMM whose beta = 1
// accumulates onto the bias rows. Backward: dX = dY W (R, K), dW = dY^T X (N, K), one GEMM each;
// db = column sums of dY, each added into a gradient the engine already holds.
// linear_relu is relu(linear(x, w, b)) in one op: relu runs on each GEMM's rows as soon as they
// are written, and its backward masks dY and sums db in one pass.

namespace {

struct LinearShape {
  Operand X, W;
  int64_t rows, K, N;
  Shape xshape, yshape;
};

LinearShape check_linear(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  if (x.dim() < 1 || w.dim() != 2 || x.shape().back() != w.shape()[1])
    mismatch(op, "input and weight", x, w, "need x (..., K) and w (N, K)");
  if (x.dtype() != w.dtype()) mismatch(op, "input and weight", x, w, "dtypes differ");
  const int64_t K = w.shape()[1], N = w.shape()[0];
  if (b.defined() && (b.dim() != 1 || b.shape()[0] != N || b.dtype() != w.dtype()))
    mismatch(op, "weight and bias", w, b, "need b (N) of w's dtype");
  LinearShape l{row_operand(x), make_operand(w, {}), 0, K, N, x.shape(), x.shape()};
  l.rows = operand_rows(l.X);
  l.yshape.back() = N;
  return l;
}

// linear's post-pass: none.
struct NoPost {
  template <class T>
  void operator()(T*, int64_t, int64_t) const {}
};

// Y = X W^T + b, then post(y, r0, r1) on rows [r0, r1) by the thread whose GEMM wrote them.
template <class Post>
Tensor linear_forward(const LinearShape& l, const Tensor& b, Post post) {
  const Operand &X = l.X, &W = l.W;
  const int64_t rows = l.rows, K = l.K, N = l.N;
  Tensor y = Tensor::empty(l.yshape, X.t.dtype());
  dispatch(y.dtype(), [&](auto z) {
    using T = decltype(z);
    T* py = y.data<T>();
    const Tensor bc = b.defined() ? b.contiguous_data() : Tensor();
    const T* pb = b.defined() ? bc.data<T>() : nullptr;
    // Rows [r0, r1) of Y: the bias copied into each row, then a GEMM with beta = 1 adds X W^T
    // (beta = 0 without a bias); row r of X starts at column r of a transposed layout.
    auto fill_bias = [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) std::memcpy(py + r * N, pb, N * sizeof(T));
    };
    auto rows_gemm = [&](int64_t r0, int64_t r1) {
      const T* xr = X.ptr<T>() + (X.lay.trans ? r0 : r0 * X.lay.ld);
      gemm<T>(X.lay.trans, !W.lay.trans, r1 - r0, N, K, T(1), xr, X.lay.ld, W.ptr<T>(), W.lay.ld,
              T(pb ? 1 : 0), py + r0 * N, N);
    };
    // A large product is two GEMMs on fixed halves of the rows, each after its bias rows and
    // followed by the post-pass on the rows it just wrote: at the same time on two threads, in
    // turn otherwise (where gemm() may split each further), so every element is the same sum at
    // any thread count, and the two threads' shares are equal.
    if (rows >= 2 * kGemmQuantum && rows * K * N >= kSmallGemm) {
      auto part = [&](int64_t r0, int64_t r1) {
        if (pb) fill_bias(r0, r1);
        rows_gemm(r0, r1);
        post(py, r0, r1);
      };
      const int64_t half = rows / 2;
      parallel_invoke([&] { part(0, half); }, [&] { part(half, rows); });
    } else {
      if (pb) parallel_for(rows, row_grain(N), fill_bias);
      rows_gemm(0, rows);
      if constexpr (!std::is_same_v<Post, NoPost>)
        parallel_for(rows, row_grain(N), [&](int64_t s, int64_t e) { post(py, s, e); });
    }
  });
  return y;
}

// out[n] += the column sums of a (rows, N) matrix whose row r fill(r, partial) adds into
// `partial`. Rows go in fixed blocks of 32, each block summed in order into its own partial row,
// then the partials added to out in block order: threads stream whole rows, and the result does
// not depend on the thread count.
template <class T, class Fill>
void add_column_sums(int64_t rows, int64_t N, T* out, Fill fill) {
  constexpr int64_t kBlock = 32;
  const int64_t nb = (rows + kBlock - 1) / kBlock;
  std::vector<T> part(static_cast<size_t>(nb * N), T(0));
  parallel_for(nb, row_grain(kBlock * N), [&](int64_t s, int64_t e) {
    for (int64_t b = s; b < e; ++b)
      for (int64_t r = b * kBlock; r < std::min(rows, (b + 1) * kBlock); ++r)
        fill(r, part.data() + b * N);
  });
  parallel_for(N, row_grain(nb), [&](int64_t s, int64_t e) {
    for (int64_t b = 0; b < nb; ++b)
      for (int64_t n = s; n < e; ++n) out[n] += part[b * N + n];
  });
}

// The gradients of linear given G = dY (rows, N), each added into `into` where defined; db
// only if bias_pending (linear_relu sums it in its masking pass).
void linear_backward(const LinearShape& l, const Tensor& g, const std::vector<bool>& needs,
                     const std::vector<Tensor>& into, bool bias_pending, std::vector<Tensor>& d) {
  const Operand G = row_operand(g), &X = l.X, &W = l.W;
  const int64_t rows = l.rows, K = l.K, N = l.N;
  for (size_t i = 0; i < 3; ++i)
    if (needs[i] && !into[i].defined() && !d[i].defined())
      d[i] = i == 0   ? Tensor::empty(l.xshape, g.dtype())
             : i == 1 ? Tensor::empty({N, K}, g.dtype())
                      : Tensor::zeros({N}, g.dtype());
  auto out = [&](size_t i) { return into[i].defined() ? into[i] : d[i]; };
  auto beta = [&](size_t i) { return into[i].defined() ? 1.0 : 0.0; };
  dispatch(g.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* pg = G.ptr<T>();
    auto dx = [&] {
      gemm<T>(G.lay.trans, W.lay.trans, rows, K, N, T(1), pg, G.lay.ld, W.ptr<T>(), W.lay.ld,
              T(beta(0)), out(0).template data<T>(), K);
    };
    auto dw = [&] {
      gemm<T>(!G.lay.trans, X.lay.trans, N, K, rows, T(1), pg, G.lay.ld, X.ptr<T>(), X.lay.ld,
              T(beta(1)), out(1).template data<T>(), K);
    };
    // dX and dW take the same FLOPs: on two threads, one single-threaded GEMM each beats the two
    // threaded one after the other, most of all for small models (bench/README.md).
    if (needs[0] && needs[1] && rows * K * N >= kSmallGemm) {
      parallel_invoke(dx, dw);
    } else {
      if (needs[0]) dx();
      if (needs[1]) dw();
    }
    if (needs[2] && bias_pending) {
      const int64_t sr = G.t.strides()[0], sc = G.t.strides()[1];
      add_column_sums<T>(rows, N, out(2).template data<T>(), [&](int64_t r, T* acc) {
        const T* row = pg + r * sr;
        for (int64_t n = 0; n < N; ++n) acc[n] += row[n * sc];
      });
    }
  });
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  const LinearShape l = check_linear("linear", x, w, b);
  Tensor y = linear_forward(l, b, NoPost{});
  if (!needs_record({&x, &w, &b})) return y;
  // A gradient the engine already holds for x (x's other uses: the residual path), w or b is
  // added into (GEMM beta = 1) instead of written to a new zero-filled buffer and added after.
  return record_accumulating(
      y, "linear", {x, w, b},
      [l](const Tensor& g, const std::vector<bool>& needs, const std::vector<Tensor>& into) {
        std::vector<Tensor> d(3);
        linear_backward(l, g, needs, into, true, d);
        return d;
      });
}

namespace {

// One row of linear_relu's backward: dz = g where y > 0, else 0; acc += dz.
template <bool kBias, class T>
void relu_mask_row(const T* __restrict g, const T* __restrict y, T* __restrict dz,
                   T* __restrict acc, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T v = y[i] > 0 ? g[i] : T(0);
    dz[i] = v;
    if constexpr (kBias) acc[i] += v;
  }
}

}  // namespace

// Backward: dZ = dY * 1[Y > 0] (Y the output, > 0 exactly where the pre-activation is), with
// db = column sums of dZ in the same pass (add_column_sums, as linear sums them); then linear's
// GEMMs on dZ.
Tensor linear_relu(const Tensor& x, const Tensor& w, const Tensor& b) {
  const LinearShape l = check_linear("linear_relu", x, w, b);
  Tensor y = linear_forward(l, b, [N = l.N](auto* py, int64_t r0, int64_t r1) {
    using T = std::remove_pointer_t<decltype(py)>;
    for (int64_t i = r0 * N; i < r1 * N; ++i) py[i] = py[i] > 0 ? py[i] : T(0);
  });
  if (!needs_record({&x, &w, &b})) return y;
  return record_accumulating(
      y, "linear_relu", {x, w, b},
      [l, out = y.detach()](const Tensor& g, const std::vector<bool>& needs,
                            const std::vector<Tensor>& into) {
        const Tensor gc = g.contiguous_data();
        Tensor dz = Tensor::empty(gc.shape(), gc.dtype());
        std::vector<Tensor> d(3);
        if (needs[2] && !into[2].defined()) d[2] = Tensor::zeros({l.N}, g.dtype());
        dispatch(g.dtype(), [&](auto z) {
          using T = decltype(z);
          const T *pg = gc.data<T>(), *py = out.data<T>();
          T* pz = dz.data<T>();
          const int64_t N = l.N;
          if (needs[2])
            add_column_sums<T>(l.rows, N, (into[2].defined() ? into[2] : d[2]).template data<T>(),
                               [&](int64_t r, T* acc) {
                                 relu_mask_row<true>(pg + r * N, py + r * N, pz + r * N, acc, N);
                               });
          else
            parallel_for(l.rows, row_grain(N), [&](int64_t s, int64_t e) {
              for (int64_t r = s; r < e; ++r)
                relu_mask_row<false, T>(pg + r * N, py + r * N, pz + r * N, nullptr, N);
            });
        });
        linear_backward(l, dz, needs, into, false, d);
        return d;
      });
}

}  // namespace sg
