// Two ops of a user's own, written outside seqgrad against its public API, and checked with the
// same float64 central-difference gradcheck that checks seqgrad's ops: run_gradchecks prints
// the table `seqgrad gradcheck` prints, and the program exits 1 if a row fails.
//
//   softplus(x) = log(1 + exp(x)), elementwise
//     backward: gx = g * sigmoid(x)
//   sq_dist(a, b): a (N, D), b (M, D) -> (N, M), y[i, j] = sum_d (a[i, d] - b[j, d])^2
//     backward: ga[i] = 2 sum_j g[i, j] (a[i] - b[j]),  gb[j] = -2 sum_i g[i, j] (a[i] - b[j])
// An op computes its output in plain loops (templated over float and double, so the same code
// trains in float32 and is checked in float64), then record() attaches its backward: a closure
// from the output's gradient to one gradient per input, computed where `needs` asks for it.
#include <seqgrad/seqgrad.h>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace {

using sg::Tensor;

// softplus without overflow: x + log1p(exp(-x)) for x > 0.
Tensor softplus(const Tensor& x) {
  const Tensor xc = x.contiguous_data();
  const Tensor y = Tensor::empty(x.shape(), x.dtype());
  sg::dispatch(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* in = xc.data<T>();
    T* out = y.data<T>();
    for (int64_t i = 0; i < xc.numel(); ++i)
      out[i] = in[i] > 0 ? in[i] + std::log1p(std::exp(-in[i])) : std::log1p(std::exp(in[i]));
  });
  return sg::record(y, "softplus", {x}, [xc](const Tensor& grad, const std::vector<bool>&) {
    const Tensor g = grad.contiguous_data();
    const Tensor gx = Tensor::empty(xc.shape(), xc.dtype());
    sg::dispatch(xc.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T *in = xc.data<T>(), *gy = g.data<T>();
      T* out = gx.data<T>();
      for (int64_t i = 0; i < xc.numel(); ++i) out[i] = gy[i] / (1 + std::exp(-in[i]));
    });
    return std::vector<Tensor>{gx};
  });
}

// Squared Euclidean distances between the rows of a and the rows of b.
Tensor sq_dist(const Tensor& a, const Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(1) || a.dtype() != b.dtype())
    throw std::invalid_argument("sq_dist: needs a (N, D) and b (M, D) of one dtype, got " +
                                sg::shape_str(a.shape()) + " and " + sg::shape_str(b.shape()));
  const Tensor ac = a.contiguous_data(), bc = b.contiguous_data();
  const int64_t N = a.size(0), M = b.size(0), D = a.size(1);
  const Tensor y = Tensor::empty({N, M}, a.dtype());
  sg::dispatch(a.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T *pa = ac.data<T>(), *pb = bc.data<T>();
    T* out = y.data<T>();
    for (int64_t i = 0; i < N; ++i)
      for (int64_t j = 0; j < M; ++j) {
        T s = 0;
        for (int64_t d = 0; d < D; ++d) {
          const T e = pa[i * D + d] - pb[j * D + d];
          s += e * e;
        }
        out[i * M + j] = s;
      }
  });
  return sg::record(
      y, "sq_dist", {a, b}, [ac, bc](const Tensor& grad, const std::vector<bool>& needs) {
        const Tensor g = grad.contiguous_data();
        const int64_t n = ac.size(0), m = bc.size(0), dim = ac.size(1);
        Tensor ga, gb;
        if (needs[0]) ga = Tensor::zeros(ac.shape(), ac.dtype());
        if (needs[1]) gb = Tensor::zeros(bc.shape(), bc.dtype());
        sg::dispatch(ac.dtype(), [&](auto zero) {
          using T = decltype(zero);
          const T *pa = ac.data<T>(), *pb = bc.data<T>(), *pg = g.data<T>();
          T* pga = needs[0] ? ga.data<T>() : nullptr;
          T* pgb = needs[1] ? gb.data<T>() : nullptr;
          for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < m; ++j)
              for (int64_t d = 0; d < dim; ++d) {
                const T diff = 2 * pg[i * m + j] * (pa[i * dim + d] - pb[j * dim + d]);
                if (pga) pga[i * dim + d] += diff;
                if (pgb) pgb[j * dim + d] -= diff;
              }
        });
        return std::vector<Tensor>{ga, gb};
      });
}

// The rows to check: several shapes (size-1 dims included), a strided input, an input used twice
// (its gradient sums both uses), and the ops inside a composition with seqgrad's own ops.
std::vector<sg::GradCase> custom_cases() {
  std::vector<sg::GradCase> cases = {
      sg::unary_case("softplus", {3, 4}, softplus, -4.0, 4.0),
      sg::unary_case("softplus_size1_dims", {1, 5, 1}, softplus, -4.0, 4.0),
      sg::binary_case("sq_dist", {4, 3}, {5, 3}, sq_dist),
      sg::binary_case("sq_dist_one_row", {1, 3}, {5, 3}, sq_dist),
  };
  cases.push_back({"softplus_transposed_input", "op", [](sg::Generator& g) {
                     const Tensor x = sg::grad_input({3, 5}, g, -4.0, 4.0);
                     return sg::GradProblem{{x}, [x] { return softplus(sg::transpose(x, 0, 1)); }};
                   }});
  cases.push_back({"sq_dist_same_input", "op", [](sg::Generator& g) {
                     const Tensor x = sg::grad_input({4, 3}, g);
                     return sg::GradProblem{{x}, [x] { return sq_dist(x, x); }};
                   }});
  // Soft nearest neighbour: each query's weights over the keys, softmax(-|q - k|^2), applied to
  // the keys' values; softplus keeps the values positive.
  cases.push_back(
      {"soft_nearest_neighbour", "layer", [](sg::Generator& g) {
         const Tensor q = sg::grad_input({2, 3}, g), k = sg::grad_input({4, 3}, g),
                      v = sg::grad_input({4, 2}, g);
         return sg::GradProblem{
             {q, k, v}, [q, k, v] { return sg::matmul(sg::softmax(-sq_dist(q, k)), softplus(v)); }};
       }});
  return cases;
}

}  // namespace

int main() {
  // The same checks as every op of seqgrad: eps 1e-6, atol 1e-5, rtol 1e-3, a random upstream
  // gradient per case (seed 0).
  const int failed = sg::run_gradchecks(custom_cases(), std::cout);
  return failed ? 1 : 0;
}
