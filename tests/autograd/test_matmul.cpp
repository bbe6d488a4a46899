// float32 matmul and linear (values and gradients) against naive loops, for every operand layout
// GEMM sees (row-major, transposed, sliced with a larger leading dim, copied) and for batch
// broadcasting; plus shape errors.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"

namespace sg {
namespace {

// The element of x (any strides) at a row-major linear index.
double at(const Tensor& x, int64_t linear) {
  int64_t off = 0;
  for (int64_t d = x.dim() - 1; d >= 0; --d) {
    off += (linear % x.shape()[d]) * x.strides()[d];
    linear /= x.shape()[d];
  }
  return x.data<float>()[off];
}

// Naive a (..., M, K) @ b (..., K, N) with broadcast batch dims, in double.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(b.shape().begin(), b.shape().end() - 2));
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), {M, K});
  sb.insert(sb.end(), {K, N});
  const Tensor ab = broadcast_to(a.detach(), sa), bb = broadcast_to(b.detach(), sb);
  Shape so = batch;
  so.insert(so.end(), {M, N});
  std::vector<double> out(shape_numel(so));
  for (int64_t i = 0; i < shape_numel(batch); ++i)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += at(ab, (i * M + m) * K + k) * at(bb, (i * K + k) * N + n);
        out[(i * M + m) * N + n] = s;
      }
  return Tensor::from_vector(out, so);
}

void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  const std::vector<double> g = got.to_vector(), w = want.to_vector();
  for (size_t i = 0; i < g.size(); ++i)
    ASSERT_NEAR(g[i], w[i], 1e-5 + 1e-4 * std::fabs(w[i])) << what << " at " << i;
}

// A float32 (rows, cols) operand in one of the layouts GEMM can see, built from a fresh leaf;
// `leaf` receives the leaf so tests can read its gradient.
enum class Layout { row_major, transposed, sliced, transposed_sliced, strided };
const Layout kLayouts[] = {Layout::row_major, Layout::transposed, Layout::sliced,
                           Layout::transposed_sliced, Layout::strided};
const char* layout_name(Layout l) {
  const char* names[] = {"row_major", "transposed", "sliced", "transposed_sliced", "strided"};
  return names[static_cast<int>(l)];
}

Tensor operand(Layout l, Shape batch, int64_t rows, int64_t cols, Generator& g, Tensor* leaf) {
  auto make = [&](int64_t r, int64_t c) {
    Shape s = batch;
    s.insert(s.end(), {r, c});
    *leaf = Tensor::randn(s, g).set_requires_grad();
    return *leaf;
  };
  switch (l) {
    case Layout::row_major:
      return make(rows, cols);
    case Layout::transposed:
      return transpose(make(cols, rows), -1, -2);
    case Layout::sliced:
      return slice(make(rows, cols + 3), -1, 2, cols + 2);
    case Layout::transposed_sliced:
      return transpose(slice(make(cols, rows + 2), -1, 1, rows + 1), -1, -2);
    case Layout::strided:
      return slice(make(rows, 2 * cols), -1, 1, 2 * cols, 2);
  }
  return Tensor();
}

// The gradients of <C, G> for C = a @ b: dA = G B^T, dB = A^T G, summed over broadcast dims.
void check_grads(const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& a_leaf,
                 const Tensor& b_leaf, Generator& gen, const std::string& what) {
  const Tensor G = Tensor::randn(c.shape(), gen);
  c.backward(G);
  const Tensor ga = sum_to(naive_matmul(G, transpose(b.detach(), -1, -2)), a.shape());
  const Tensor gb = sum_to(naive_matmul(transpose(a.detach(), -1, -2), G), b.shape());
  // The leaves hold the gradients of the views a, b: read them back through the same view.
  const Tensor va = Tensor::view_of(a_leaf.grad(), a.shape(), a.strides(), a.offset());
  const Tensor vb = Tensor::view_of(b_leaf.grad(), b.shape(), b.strides(), b.offset());
  expect_close(va, ga, what + " dA");
  expect_close(vb, gb, what + " dB");
}

TEST(Matmul, EveryLayoutPairMatchesNaive) {
  Generator gen(11);
  for (Layout la : kLayouts)
    for (Layout lb : kLayouts) {
      const std::string what = std::string(layout_name(la)) + " @ " + layout_name(lb);
      Tensor al, bl;
      const Tensor a = operand(la, {}, 5, 4, gen, &al), b = operand(lb, {}, 4, 3, gen, &bl);
      const Tensor c = matmul(a, b);
      expect_close(c, naive_matmul(a, b), what);
      check_grads(a, b, c, al, bl, gen, what);
    }
}

TEST(Matmul, EveryLayoutPairBatchedMatchesNaive) {
  Generator gen(12);
  for (Layout la : kLayouts)
    for (Layout lb : kLayouts) {
      const std::string what = std::string(layout_name(la)) + " @ " + layout_name(lb) + " batched";
      Tensor al, bl;
      const Tensor a = operand(la, {2, 3}, 4, 6, gen, &al);
      const Tensor b = operand(lb, {3}, 6, 5, gen, &bl);
      const Tensor c = matmul(a, b);
      expect_close(c, naive_matmul(a, b), what);
      check_grads(a, b, c, al, bl, gen, what);
    }
}

TEST(Matmul, BatchBroadcastingMatchesNaive) {
  Generator gen(13);
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 1, 3, 4}, {3, 4, 5}}, {{3, 4}, {2, 4, 5}},    {{2, 3, 4}, {4, 5}},
      {{1, 3, 4}, {2, 1, 4, 2}}, {{2, 1, 4}, {2, 4, 1}}, {{1, 4}, {4, 1}},
      {{2, 3, 1, 4}, {4, 7}},
  };
  for (const auto& [sa, sb] : shapes) {
    const std::string what = shape_str(sa) + " @ " + shape_str(sb);
    const Tensor a = Tensor::randn(sa, gen).set_requires_grad();
    const Tensor b = Tensor::randn(sb, gen).set_requires_grad();
    const Tensor c = matmul(a, b);
    expect_close(c, naive_matmul(a, b), what);
    check_grads(a, b, c, a, b, gen, what);
  }
}

TEST(Matmul, PermutedBatchWith2dWeight) {
  // (T, B, K) permuted to (B, T, K): the leading dims do not merge into one row stride.
  Generator gen(14);
  const Tensor al = Tensor::randn({3, 2, 4}, gen).set_requires_grad();
  const Tensor b = Tensor::randn({4, 5}, gen).set_requires_grad();
  const Tensor a = permute(al, {1, 0, 2});
  const Tensor c = matmul(a, b);
  expect_close(c, naive_matmul(a, b), "permuted");
  check_grads(a, b, c, al, b, gen, "permuted");
}

TEST(Matmul, EmptyInnerDimGivesZeros) {
  const Tensor c = matmul(Tensor::zeros({3, 0}), Tensor::zeros({0, 2}));
  EXPECT_EQ(c.shape(), (Shape{3, 2}));
  EXPECT_EQ(c.to_vector(), std::vector<double>(6, 0.0));
  EXPECT_EQ(matmul(Tensor::zeros({2, 0, 3}), Tensor::zeros({2, 3, 4})).shape(), (Shape{2, 0, 4}));
}

TEST(Matmul, ShapeErrorsNameTheOpAndBothShapes) {
  auto message = [](const Tensor& a, const Tensor& b) {
    try {
      matmul(a, b);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string m = message(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}));
  EXPECT_NE(m.find("matmul"), std::string::npos) << m;
  EXPECT_NE(m.find("{2,3}"), std::string::npos) << m;
  EXPECT_NE(m.find("{4,5}"), std::string::npos) << m;
  m = message(Tensor::zeros({2, 3, 4}), Tensor::zeros({3, 4, 5}));
  EXPECT_NE(m.find("{2,3,4}"), std::string::npos) << m;
  EXPECT_NE(m.find("{3,4,5}"), std::string::npos) << m;
  EXPECT_FALSE(message(Tensor::zeros({4}), Tensor::zeros({4, 2})).empty());
  EXPECT_FALSE(message(Tensor::zeros({2, 4}), Tensor::zeros({4, 2}, DType::f64)).empty());
}

// Naive x (..., K) w^T + b.
Tensor naive_linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  const Tensor y = naive_matmul(reshape(x.detach(), {-1, x.size(-1)}), transpose(w.detach(), 0, 1));
  Shape so = x.shape();
  so.back() = w.size(0);
  const Tensor r = reshape(y, so);
  return b.defined() ? add(r, b.detach()) : r;
}

TEST(Linear, MatchesNaiveWithAndWithoutBias) {
  Generator gen(21);
  for (const Shape& xs : {Shape{4, 3}, Shape{2, 5, 3}, Shape{3}}) {
    for (bool bias : {true, false}) {
      const std::string what = shape_str(xs) + (bias ? " bias" : " no bias");
      const Tensor x = Tensor::randn(xs, gen).set_requires_grad();
      const Tensor w = Tensor::randn({6, 3}, gen).set_requires_grad();
      const Tensor b = bias ? Tensor::randn({6}, gen).set_requires_grad() : Tensor();
      const Tensor y = linear(x, w, b);
      expect_close(y, naive_linear(x, w, b), what);
      const Tensor G = Tensor::randn(y.shape(), gen);
      y.backward(G);
      const Tensor G2 = reshape(G, {-1, 6}), x2 = reshape(x.detach(), {-1, 3});
      expect_close(x.grad(), reshape(naive_matmul(G2, w.detach()), xs), what + " dx");
      expect_close(w.grad(), naive_matmul(transpose(G2, 0, 1), x2), what + " dw");
      if (bias) expect_close(b.grad(), sum(G2, {0}), what + " db");
    }
  }
}

TEST(Linear, StridedInputsMatchNaive) {
  Generator gen(22);
  for (Layout lx : kLayouts)
    for (Layout lw : kLayouts) {
      const std::string what = std::string(layout_name(lx)) + " x, " + layout_name(lw) + " w";
      Tensor xl, wl;
      const Tensor x = operand(lx, {}, 5, 4, gen, &xl), w = operand(lw, {}, 3, 4, gen, &wl);
      const Tensor b = slice(Tensor::randn({6}, gen), 0, 0, 6, 2);
      const Tensor y = linear(x, w, b);
      expect_close(y, naive_linear(x, w, b), what);
      const Tensor G = transpose(Tensor::randn({3, 5}, gen), 0, 1);  // a strided upstream gradient
      y.backward(G);
      const Tensor vx = Tensor::view_of(xl.grad(), x.shape(), x.strides(), x.offset());
      const Tensor vw = Tensor::view_of(wl.grad(), w.shape(), w.strides(), w.offset());
      expect_close(vx, naive_matmul(G, w.detach()), what + " dx");
      expect_close(vw, naive_matmul(transpose(G, 0, 1), x.detach()), what + " dw");
    }
}

TEST(Linear, ShapeErrorsNameTheOp) {
  const Tensor x = Tensor::zeros({2, 3}), w = Tensor::zeros({4, 3});
  EXPECT_THROW(linear(x, Tensor::zeros({4, 5}), Tensor()), std::invalid_argument);
  EXPECT_THROW(linear(x, w, Tensor::zeros({3})), std::invalid_argument);
  EXPECT_THROW(linear(x, Tensor::zeros({4}), Tensor()), std::invalid_argument);
  try {
    linear(x, Tensor::zeros({4, 5}), Tensor());
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("linear"), std::string::npos) << m;
    EXPECT_NE(m.find("{2,3}"), std::string::npos) << m;
    EXPECT_NE(m.find("{4,5}"), std::string::npos) << m;
  }
}

// linear_relu against relu(linear(...)): values and all three gradients bit for bit, in float32
// and float64, small (serial) and large enough for the two-thread row split, with and without a
// bias, and with x also on a residual path (its dX added into x's pending gradient).
TEST(LinearRelu, EqualsReluOfLinearBitForBit) {
  auto bytes = [](const Tensor& t) {
    const Tensor c = t.contiguous_data();
    const char* p = static_cast<const char*>(c.raw_data());
    return std::string(p, p + c.numel() * dtype_size(c.dtype()));
  };
  for (DType dt : {DType::f32, DType::f64})
    for (const auto& [xs, N] : {std::pair<Shape, int64_t>{{4, 3}, 6}, {{2, 64, 128}, 160}})
      for (bool bias : {true, false})
        for (bool residual : {false, true}) {
          const std::string what = std::string(dtype_name(dt)) + " " + shape_str(xs) +
                                   (bias ? " bias" : "") + (residual ? " residual" : "");
          Generator gen(31);
          const int64_t K = xs.back();
          const Tensor x0 = Tensor::randn(xs, gen, dt), w0 = Tensor::randn({N, K}, gen, dt),
                       b0 = Tensor::randn({N}, gen, dt);
          Shape ys = xs;
          ys.back() = N;
          const Tensor G = Tensor::randn(residual ? xs : ys, gen, dt);
          std::vector<std::string> got[2];
          for (int fused = 0; fused < 2; ++fused) {
            const Tensor x = x0.clone().set_requires_grad(), w = w0.clone().set_requires_grad();
            const Tensor b = bias ? b0.clone().set_requires_grad() : Tensor();
            const Tensor h = mul(x, 1.0);
            Tensor y = fused ? linear_relu(h, w, b) : relu(linear(h, w, b));
            got[fused].push_back(bytes(y));
            if (residual) y = add(slice(y, -1, 0, K), h);
            y.backward(G);
            got[fused].push_back(bytes(x.grad()));
            got[fused].push_back(bytes(w.grad()));
            if (bias) got[fused].push_back(bytes(b.grad()));
          }
          ASSERT_EQ(got[0].size(), got[1].size());
          for (size_t i = 0; i < got[0].size(); ++i)
            EXPECT_TRUE(got[0][i] == got[1][i]) << what << ": output " << i << " of y, dx, dw, db";
        }
}

// A product large enough to run as two GEMMs on fixed halves of its rows (an odd row count, a
// transposed input, with and without a bias): y, dx, dw and db the same bits on 1, 2 and 3
// threads, and y close to naive loops.
TEST(Linear, RowHalvesGiveTheSameBitsAtAnyThreadCount) {
  auto bytes = [](const Tensor& t) {
    const Tensor c = t.contiguous_data();
    const char* p = static_cast<const char*>(c.raw_data());
    return std::string(p, p + c.numel() * dtype_size(c.dtype()));
  };
  const int before = num_threads();
  Generator gen(23);
  const Tensor x0 = Tensor::randn({96, 7, 101}, gen), w0 = Tensor::randn({80, 96}, gen),
               b0 = Tensor::randn({80}, gen);
  const Tensor G = Tensor::randn({7, 101, 80}, gen);
  for (bool relu_too : {false, true})
    for (bool bias : {true, false}) {
      const std::string what =
          std::string(relu_too ? "linear_relu" : "linear") + (bias ? " bias" : " no bias");
      std::vector<std::string> got[3];
      for (int threads = 1; threads <= 3; ++threads) {
        use_threads(threads);
        const Tensor x = x0.clone().set_requires_grad(), w = w0.clone().set_requires_grad();
        const Tensor b = bias ? b0.clone().set_requires_grad() : Tensor();
        const Tensor xt = permute(x, {1, 2, 0});  // (7, 101, 96): 707 rows, transposed layout
        const Tensor y = relu_too ? linear_relu(xt, w, b) : linear(xt, w, b);
        if (!relu_too && threads == 1) expect_close(y, naive_linear(xt, w, b), what);
        y.backward(G);
        auto& out = got[threads - 1];
        out = {bytes(y), bytes(x.grad()), bytes(w.grad())};
        if (bias) out.push_back(bytes(b.grad()));
      }
      for (int t = 1; t < 3; ++t)
        for (size_t i = 0; i < got[0].size(); ++i)
          EXPECT_TRUE(got[0][i] == got[t][i])
              << what << ": output " << i << " of y, dx, dw, db at " << t + 1 << " threads";
    }
  use_threads(before);
}

TEST(LinearRelu, ShapeErrorsNameTheOp) {
  try {
    linear_relu(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}), Tensor());
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("linear_relu"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sg
