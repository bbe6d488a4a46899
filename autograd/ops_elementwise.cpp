// Elementwise ops. Each op is a forward lambda f and, right below it, the lambda for its local
// derivative; the two generic drivers below run them over contiguous memory and record the node.
#include <cmath>
#include <type_traits>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"

namespace sg {

namespace {

// y = f(x) elementwise; backward: gx = df(x, y, gy). Saves x and y (detached).
template <class F, class DF>
Tensor unary(const char* name, const Tensor& x_in, F f, DF df) {
  const Tensor x = x_in.contiguous_data();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    parallel_for(x.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) py[i] = f(px[i]);
    });
  });
  if (!needs_record({&x_in})) return y;
  const Tensor xs = x.detach(), ys = y.detach();
  return record(y, name, {x_in}, [xs, ys, df](const Tensor& gy_in, const std::vector<bool>&) {
    const Tensor gy = gy_in.contiguous_data();
    Tensor gx = Tensor::empty(xs.shape(), xs.dtype());
    dispatch(xs.dtype(), [&](auto z) {
      using T = decltype(z);
      const T *px = xs.data<T>(), *py = ys.data<T>(), *pg = gy.data<T>();
      T* po = gx.data<T>();
      parallel_for(xs.numel(), kParallelGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) po[i] = df(px[i], py[i], pg[i]);
      });
    });
    return std::vector<Tensor>{gx};
  });
}

// The local derivative 1: the input's gradient is gy itself, shared rather than copied (the
// engine copies a shared gradient before it adds into it).
struct Identity {
  template <class T>
  T operator()(T, T, T g) const {
    return g;
  }
};

// y = f(a, b) after broadcasting both to one shape; backward: ga = da(a, b, gy), gb = db(a, b, gy).
template <class F, class DA, class DB>
Tensor binary(const char* name, const Tensor& a_in, const Tensor& b_in, F f, DA da, DB db) {
  check_same_dtype(name, a_in, b_in);
  const Shape shape = broadcast_shapes(a_in.shape(), b_in.shape());
  const Tensor a_b = broadcast_to(a_in, shape), b_b = broadcast_to(b_in, shape);
  const Tensor a = a_b.contiguous_data(), b = b_b.contiguous_data();
  Tensor y = Tensor::empty(shape, a.dtype());
  dispatch(a.dtype(), [&](auto z) {
    using T = decltype(z);
    const T *pa = a.data<T>(), *pb = b.data<T>();
    T* py = y.data<T>();
    parallel_for(y.numel(), kParallelGrain, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) py[i] = f(pa[i], pb[i]);
    });
  });
  if (!needs_record({&a_b, &b_b})) return y;
  if constexpr (std::is_same_v<DA, Identity> && std::is_same_v<DB, Identity>)
    return record(y, name, {a_b, b_b}, [](const Tensor& gy, const std::vector<bool>&) {
      return std::vector<Tensor>{gy, gy};
    });
  const Tensor as = a.detach(), bs = b.detach();
  return record(y, name, {a_b, b_b},
                [as, bs, da, db](const Tensor& gy_in, const std::vector<bool>& needs) {
                  const Tensor gy = gy_in.contiguous_data();
                  std::vector<Tensor> g(2);
                  dispatch(as.dtype(), [&](auto z) {
                    using T = decltype(z);
                    const T *pa = as.data<T>(), *pb = bs.data<T>(), *pg = gy.data<T>();
                    const int64_t n = as.numel();
                    auto run = [&](auto d) {
                      Tensor out = Tensor::empty(as.shape(), as.dtype());
                      T* po = out.data<T>();
                      parallel_for(n, kParallelGrain, [&](int64_t s, int64_t e) {
                        for (int64_t i = s; i < e; ++i) po[i] = d(pa[i], pb[i], pg[i]);
                      });
                      return out;
                    };
                    if (needs[0]) {
                      if constexpr (std::is_same_v<DA, Identity>)
                        g[0] = gy;
                      else
                        g[0] = run(da);
                    }
                    if (needs[1]) g[1] = run(db);
                  });
                  return g;
                });
}

}  // namespace

// ---- binary: y = a op b
Tensor add(const Tensor& a, const Tensor& b) {
  return binary(
      "add", a, b, [](auto x, auto y) { return x + y; }, Identity{},  // d/da (a + b) = 1
      Identity{});
}

Tensor sub(const Tensor& a, const Tensor& b) {
  return binary(
      "sub", a, b, [](auto x, auto y) { return x - y; }, Identity{},  // d/db (a - b) = -1
      [](auto, auto, auto g) { return -g; });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return binary(
      "mul", a, b, [](auto x, auto y) { return x * y; },
      [](auto, auto y, auto g) { return g * y; },  // d/da (a b) = b
      [](auto x, auto, auto g) { return g * x; });
}

Tensor div(const Tensor& a, const Tensor& b) {
  return binary(
      "div", a, b, [](auto x, auto y) { return x / y; },
      [](auto, auto y, auto g) { return g / y; },  // d/da = 1/b, d/db = -a/b^2
      [](auto x, auto y, auto g) { return -g * x / (y * y); });
}

// ---- scalar: y = a + s, y = a * s
Tensor add(const Tensor& a, double s) {
  return unary(
      "add_scalar", a, [s](auto x) { return static_cast<decltype(x)>(x + s); },
      [](auto, auto, auto g) { return g; });
}

Tensor mul(const Tensor& a, double s) {
  return unary(
      "mul_scalar", a, [s](auto x) { return static_cast<decltype(x)>(x * s); },
      [s](auto, auto, auto g) { return static_cast<decltype(g)>(g * s); });
}

// ---- unary
Tensor neg(const Tensor& x) {
  return unary(
      "neg", x, [](auto v) { return -v; }, [](auto, auto, auto g) { return -g; });
}

Tensor pow(const Tensor& x, double p) {
  return unary(
      "pow", x, [p](auto v) { return static_cast<decltype(v)>(std::pow(v, p)); },
      // d/dx x^p = p x^(p-1)
      [p](auto v, auto, auto g) { return static_cast<decltype(v)>(g * p * std::pow(v, p - 1)); });
}

Tensor exp(const Tensor& x) {
  return unary(
      "exp", x, [](auto v) { return std::exp(v); },
      [](auto, auto y, auto g) { return g * y; });  // d/dx e^x = e^x = y
}

Tensor log(const Tensor& x) {
  return unary(
      "log", x, [](auto v) { return std::log(v); },
      [](auto v, auto, auto g) { return g / v; });  // d/dx log x = 1/x
}

Tensor sqrt(const Tensor& x) {
  return unary(
      "sqrt", x, [](auto v) { return std::sqrt(v); },
      [](auto, auto y, auto g) { return g / (2 * y); });  // d/dx sqrt(x) = 1 / (2 y)
}

Tensor tanh(const Tensor& x) {
  return unary(
      "tanh", x, [](auto v) { return std::tanh(v); },
      [](auto, auto y, auto g) { return g * (1 - y * y); });  // 1 - tanh^2
}

Tensor sigmoid(const Tensor& x) {
  return unary(
      "sigmoid", x,
      [](auto v) {
        using T = decltype(v);
        return v >= 0 ? T(1) / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v));
      },
      [](auto, auto y, auto g) { return g * y * (1 - y); });  // s (1 - s)
}

Tensor relu(const Tensor& x) {
  return unary(
      "relu", x, [](auto v) { return v > 0 ? v : decltype(v)(0); },
      [](auto v, auto, auto g) { return v > 0 ? g : decltype(g)(0); });  // 1[x > 0]
}

Tensor gelu(const Tensor& x) {
  return unary(
      "gelu", x,
      [](auto v) {
        using T = decltype(v);
        return static_cast<T>(0.5 * v * (1 + std::erf(v * M_SQRT1_2)));
      },
      // d/dx x Phi(x) = Phi(x) + x phi(x)
      [](auto v, auto, auto g) {
        using T = decltype(v);
        const double cdf = 0.5 * (1 + std::erf(v * M_SQRT1_2));
        const double pdf = std::exp(-0.5 * double(v) * v) * (M_2_SQRTPI * M_SQRT1_2 * 0.5);
        return static_cast<T>(g * (cdf + v * pdf));
      });
}

}  // namespace sg
