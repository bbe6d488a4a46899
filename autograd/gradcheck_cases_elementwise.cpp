// Gradcheck rows for the elementwise ops: plain, broadcast, size-1, reused and strided inputs.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

namespace {

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
      binary_case("add", {4, 5}, {4, 5}, add_fn),
      binary_case("add_broadcast_col", {4, 5}, {4, 1}, add_fn),
      binary_case("add_broadcast_row", {4, 5}, {5}, add_fn),
      binary_case("add_broadcast_both", {1}, {3, 1, 2}, add_fn),
      binary_case("sub_broadcast", {3, 1, 2}, {4, 1}, sub_fn),
      binary_case("mul", {4, 5}, {4, 5}, mul_fn),
      binary_case("mul_broadcast", {4, 5}, {4, 1}, mul_fn),
      binary_case("mul_size1_dims", {1, 3, 1}, {2, 1, 4}, mul_fn),
      binary_case("div", {3, 4}, {3, 4}, div_fn, 0.5, 2.0),
      binary_case("div_broadcast", {2, 3, 4}, {4}, div_fn, 0.5, 2.0),
      unary_case("neg", {3, 4}, [](const Tensor& x) { return neg(x); }),
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
      unary_case("exp", {3, 4}, [](const Tensor& x) { return exp(x); }),
      unary_case(
          "log", {3, 4}, [](const Tensor& x) { return log(x); }, 0.5, 2.0),
      unary_case(
          "sqrt", {3, 4}, [](const Tensor& x) { return sqrt(x); }, 0.5, 2.0),
      unary_case(
          "tanh", {3, 4}, [](const Tensor& x) { return tanh(x); }, -2, 2),
      unary_case(
          "sigmoid", {3, 4}, [](const Tensor& x) { return sigmoid(x); }, -4, 4),
      unary_case("relu", {3, 4}, [](const Tensor& x) { return relu(x); }),
      unary_case(
          "gelu", {3, 4}, [](const Tensor& x) { return gelu(x); }, -3, 3),
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
