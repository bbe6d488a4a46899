// Gradcheck rows for broadcast_to, sum_to and the reductions.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

namespace {

GradCase one_input(const std::string& name, Shape shape, std::function<Tensor(const Tensor&)> f) {
  return {name, "op", [=](Generator& g) {
            Tensor x = grad_input(shape, g);
            return GradProblem{{x}, [=] { return f(x); }};
          }};
}

}  // namespace

std::vector<GradCase> reduce_grad_cases() {
  return {
      one_input("broadcast_to_col", {4, 1},
                [](const Tensor& x) {
                  return broadcast_to(x, {4, 5});
                }),
      one_input("broadcast_to_new_dims", {1},
                [](const Tensor& x) {
                  return broadcast_to(x, {3, 1, 2});
                }),
      one_input("broadcast_to_row", {5},
                [](const Tensor& x) {
                  return broadcast_to(x, {2, 4, 5});
                }),
      one_input("sum_to_row", {4, 5}, [](const Tensor& x) { return sum_to(x, {5}); }),
      one_input("sum_to_keep_size1", {2, 3, 4},
                [](const Tensor& x) {
                  return sum_to(x, {3, 1});
                }),
      one_input("sum_all", {3, 4}, [](const Tensor& x) { return sum(x); }),
      one_input("sum_axis", {3, 4, 5}, [](const Tensor& x) { return sum(x, {1}); }),
      one_input("sum_axes_keepdim", {3, 4, 5},
                [](const Tensor& x) {
                  return sum(x, {0, -1}, true);
                }),
      one_input("sum_size1_dim", {3, 1, 5}, [](const Tensor& x) { return sum(x, {1}); }),
      one_input("sum_transposed_view", {3, 4},
                [](const Tensor& x) { return sum(transpose(x, 0, 1), {1}); }),
      one_input("mean_all", {3, 4}, [](const Tensor& x) { return mean(x); }),
      one_input("mean_axis_keepdim", {3, 4, 5}, [](const Tensor& x) { return mean(x, {2}, true); }),
      one_input("max_axis", {3, 4, 5}, [](const Tensor& x) { return max(x, {1}); }),
      one_input("max_axes_keepdim", {3, 4, 5},
                [](const Tensor& x) {
                  return max(x, {0, 2}, true);
                }),
      one_input("max_all", {4, 5}, [](const Tensor& x) { return max(x, {}); }),
  };
}

}  // namespace sg
