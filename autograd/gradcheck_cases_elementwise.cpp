// Gradcheck rows for the elementwise ops: plain, broadcast, size-1, reused and strided inputs.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

namespace {

using Unary = Tensor (*)(const Tensor&);
using Binary = Tensor (*)(const Tensor&, const Tensor&);

GradCase unary_case(const std::string& name, Unary f, Shape shape, double lo = -1, double hi = 1) {
  return {name, "op", [=](Generator& g) {
            Tensor x = grad_input(shape, g, lo, hi);
            return GradProblem{{x}, [=] { return f(x); }};
          }};
}

GradCase binary_case(const std::string& name, Binary f, Shape sa, Shape sb, double lo = -1,
                     double hi = 1) {
  return {name, "op", [=](Generator& g) {
            Tensor a = grad_input(sa, g, lo, hi), b = grad_input(sb, g, lo, hi);
            return GradProblem{{a, b}, [=] { return f(a, b); }};
          }};
}

Tensor add_fn(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
Tensor sub_fn(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
Tensor mul_fn(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
Tensor div_fn(const Tensor& a, const Tensor& b) {
  return div(a, b);
}

}  // namespace

std::vector<GradCase> elementwise_grad_cases() {
  std::vector<GradCase> v = {
      binary_case("add", add_fn, {4, 5}, {4, 5}),
      binary_case("add_broadcast_col", add_fn, {4, 5}, {4, 1}),
      binary_case("add_broadcast_row", add_fn, {4, 5}, {5}),
      binary_case("add_broadcast_both", add_fn, {1}, {3, 1, 2}),
      binary_case("sub_broadcast", sub_fn, {3, 1, 2}, {4, 1}),
      binary_case("mul", mul_fn, {4, 5}, {4, 5}),
      binary_case("mul_broadcast", mul_fn, {4, 5}, {4, 1}),
      binary_case("mul_size1_dims", mul_fn, {1, 3, 1}, {2, 1, 4}),
      binary_case("div", div_fn, {3, 4}, {3, 4}, 0.5, 2.0),
      binary_case("div_broadcast", div_fn, {2, 3, 4}, {4}, 0.5, 2.0),
      unary_case("neg", neg, {3, 4}),
      {"add_scalar", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g);
         return GradProblem{{x}, [=] { return add(x, 2.5); }};
       }},
      {"mul_scalar", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g);
         return GradProblem{{x}, [=] { return mul(x, -1.75); }};
       }},
      {"pow", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g, 0.5, 2.0);
         return GradProblem{{x}, [=] { return pow(x, 2.5); }};
       }},
      {"pow_negative_exponent", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 3}, g, 0.5, 2.0);
         return GradProblem{{x}, [=] { return pow(x, -0.5); }};
       }},
      unary_case("exp", exp, {3, 4}),
      unary_case("log", log, {3, 4}, 0.5, 2.0),
      unary_case("sqrt", sqrt, {3, 4}, 0.5, 2.0),
      unary_case("tanh", tanh, {3, 4}, -2, 2),
      unary_case("sigmoid", sigmoid, {3, 4}, -4, 4),
      unary_case("relu", relu, {3, 4}),
      unary_case("gelu", gelu, {3, 4}, -3, 3),
      // x used on two paths of one op, and f(x) + g(x) sharing x.
      {"mul_reused_x_times_x", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g);
         return GradProblem{{x}, [=] { return mul(x, x); }};
       }},
      {"add_shared_input_paths", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g);
         return GradProblem{{x}, [=] { return add(tanh(x), mul(exp(x), x)); }};
       }},
      // A transposed (non-contiguous) view as input.
      {"mul_transposed_view", "op",
       [](Generator& g) {
         Tensor a = grad_input({4, 3}, g), b = grad_input({3, 4}, g);
         return GradProblem{{a, b}, [=] { return mul(transpose(a, 0, 1), b); }};
       }},
  };
  return v;
}

}  // namespace sg
