// Gradcheck rows for the shape ops: views, copies of non-contiguous inputs, negative indices and
// steps, and multi-input concat.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

std::vector<GradCase> shape_grad_cases() {
  return {
      unary_case("reshape", {3, 4},
                 [](const Tensor& x) {
                   return reshape(x, {2, -1, 3});
                 }),
      unary_case("reshape_noncontiguous", {3, 4},
                 [](const Tensor& x) {
                   return reshape(transpose(x, 0, 1), {6, 2});
                 }),
      unary_case("transpose", {2, 3, 4}, [](const Tensor& x) { return transpose(x, 0, 2); }),
      unary_case("permute", {2, 3, 4},
                 [](const Tensor& x) {
                   return permute(x, {2, 0, 1});
                 }),
      unary_case("slice", {5, 7}, [](const Tensor& x) { return slice(x, 1, 1, 100, 2); }),
      unary_case("slice_negative", {5, 7},
                 [](const Tensor& x) { return slice(slice(x, -1, -5, -1), 0, -3, 5); }),
      unary_case("slice_of_transposed", {4, 6},
                 [](const Tensor& x) { return slice(transpose(x, 0, 1), 0, 1, 5, 3); }),
      // q, k, v-like windows of one node, the last two overlapping, plus a window of the leaf x
      // itself: the engine adds each into the same accumulated gradient.
      unary_case("slice_windows_of_one_node", {3, 9},
                 [](const Tensor& x) {
                   const Tensor y = mul(x, x);
                   const Tensor a = slice(y, 1, 0, 3), b = slice(y, 1, 3, 6), c = slice(y, 1, 5, 8);
                   return add(add(mul(a, b), c), slice(x, 1, 1, 4));
                 }),
      {"concat", "op",
       [](Generator& g) {
         Tensor a = grad_input({2, 1, 3}, g), b = grad_input({2, 2, 3}, g),
                c = grad_input({2, 3, 3}, g);
         return GradProblem{{a, b, c}, [=] { return concat({a, b, c}, 1); }};
       }},
      {"concat_reused_transposed", "op",
       [](Generator& g) {
         Tensor a = grad_input({3, 3}, g);
         return GradProblem{{a}, [=] { return concat({transpose(a, 0, 1), a * a}, -1); }};
       }},
      unary_case("contiguous_of_transposed", {3, 4},
                 [](const Tensor& x) { return contiguous(transpose(x, 0, 1)); }),
  };
}

}  // namespace sg
