// Gradcheck rows for broadcast_to, sum_to and the reductions.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

std::vector<GradCase> reduce_grad_cases() {
  return {
      unary_case("broadcast_to_col", {4, 1},
                 [](const Tensor& x) {
                   return broadcast_to(x, {4, 5});
                 }),
      unary_case("broadcast_to_new_dims", {1},
                 [](const Tensor& x) {
                   return broadcast_to(x, {3, 1, 2});
                 }),
      unary_case("broadcast_to_row", {5},
                 [](const Tensor& x) {
                   return broadcast_to(x, {2, 4, 5});
                 }),
      unary_case("sum_to_row", {4, 5}, [](const Tensor& x) { return sum_to(x, {5}); }),
      unary_case("sum_to_keep_size1", {2, 3, 4},
                 [](const Tensor& x) {
                   return sum_to(x, {3, 1});
                 }),
      unary_case("sum_all", {3, 4}, [](const Tensor& x) { return sum(x); }),
      unary_case("sum_axis", {3, 4, 5}, [](const Tensor& x) { return sum(x, {1}); }),
      unary_case("sum_axes_keepdim", {3, 4, 5},
                 [](const Tensor& x) {
                   return sum(x, {0, -1}, true);
                 }),
      unary_case("sum_size1_dim", {3, 1, 5}, [](const Tensor& x) { return sum(x, {1}); }),
      unary_case("sum_transposed_view", {3, 4},
                 [](const Tensor& x) { return sum(transpose(x, 0, 1), {1}); }),
      unary_case("mean_all", {3, 4}, [](const Tensor& x) { return mean(x); }),
      unary_case("mean_axis_keepdim", {3, 4, 5},
                 [](const Tensor& x) { return mean(x, {2}, true); }),
      unary_case("max_axis", {3, 4, 5}, [](const Tensor& x) { return max(x, {1}); }),
      unary_case("max_axes_keepdim", {3, 4, 5},
                 [](const Tensor& x) {
                   return max(x, {0, 2}, true);
                 }),
      unary_case("max_all", {4, 5}, [](const Tensor& x) { return max(x, {}); }),
  };
}

}  // namespace sg
