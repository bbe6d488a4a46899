// Gradcheck rows for matmul and linear: 2-D and batched, broadcast batch dims, transposed and
// sliced views (GEMM trans flags and leading dims), size-1 dims, and an input used twice.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

namespace {

// Two leaves of shapes sa and sb; the case computes f(a, b).

Tensor mm(const Tensor& a, const Tensor& b) {
  return matmul(a, b);
}

using LinearOp = Tensor (*)(const Tensor&, const Tensor&, const Tensor&);

// x (leaf of x_shape), w (N, K), b (N), through linear or linear_relu.
GradCase linear_case(const std::string& name, Shape x_shape, int64_t N, bool bias,
                     LinearOp op = linear) {
  return {name, "op", [=](Generator& g) {
            const int64_t K = x_shape.back();
            Tensor x = grad_input(x_shape, g), w = grad_input({N, K}, g);
            if (!bias) return GradProblem{{x, w}, [=] { return op(x, w, Tensor()); }};
            Tensor b = grad_input({N}, g);
            return GradProblem{{x, w, b}, [=] { return op(x, w, b); }};
          }};
}

// h = tanh(x) feeds the op and the residual add: the op's dX GEMM adds into h's pending
// gradient.
GradCase linear_residual_case(const std::string& name, LinearOp op) {
  return {name, "op", [=](Generator& g) {
            Tensor x = grad_input({2, 3, 4}, g), w = grad_input({4, 4}, g), b = grad_input({4}, g);
            return GradProblem{{x, w, b}, [=] {
                                 const Tensor h = tanh(x);
                                 return add(op(h, w, b), h);
                               }};
          }};
}

}  // namespace

std::vector<GradCase> matmul_grad_cases() {
  return {
      binary_case("matmul", {3, 4}, {4, 5}, mm),
      binary_case("matmul_batched", {2, 3, 4}, {2, 4, 5}, mm),
      binary_case("matmul_batched_broadcast", {2, 1, 3, 4}, {3, 4, 5}, mm),
      // 3-D a by 2-D b: one GEMM over the merged rows.
      binary_case("matmul_3d_by_2d", {2, 3, 4}, {4, 5}, mm),
      // a's leading dims do not merge (a permuted view): the batched path with b broadcast.
      binary_case("matmul_3d_permuted_by_2d", {3, 2, 4}, {4, 5},
                  [](const Tensor& a, const Tensor& b) {
                    return matmul(permute(a, {1, 0, 2}), b);
                  }),
      binary_case("matmul_2d_by_3d", {3, 4}, {2, 4, 5}, mm),
      // a = A^T, b = B^T of leaves: both operands reach GEMM as CblasTrans.
      binary_case("matmul_transposed_views", {4, 3}, {5, 4},
                  [](const Tensor& a, const Tensor& b) {
                    return matmul(transpose(a, 0, 1), transpose(b, 0, 1));
                  }),
      binary_case("matmul_transposed_views_batched", {2, 4, 3}, {2, 5, 4},
                  [](const Tensor& a, const Tensor& b) {
                    return matmul(transpose(a, 1, 2), transpose(b, -1, -2));
                  }),
      // Column slices: a leading dim larger than the row length.
      binary_case("matmul_sliced_views", {3, 6}, {4, 7},
                  [](const Tensor& a, const Tensor& b) {
                    return matmul(slice(a, 1, 1, 5), slice(b, 1, 2, 7));
                  }),
      // A step-2 slice fits neither layout: copied.
      binary_case("matmul_strided_copy", {3, 8}, {4, 5},
                  [](const Tensor& a, const Tensor& b) { return matmul(slice(a, 1, 0, 8, 2), b); }),
      binary_case("matmul_size1_dims", {2, 1, 4}, {2, 4, 1}, mm),
      binary_case("matmul_size1_dims_2d", {1, 4}, {4, 1}, mm),
      {"matmul_reused", "op",
       [](Generator& g) {
         Tensor x = grad_input({4, 4}, g);
         return GradProblem{{x}, [=] { return matmul(x, x); }};
       }},
      {"matmul_reused_transposed", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g);
         return GradProblem{{x}, [=] { return matmul(x, transpose(x, 0, 1)); }};
       }},
      linear_case("linear_2d", {4, 3}, 5, true),
      linear_case("linear_no_bias", {4, 3}, 5, false),
      linear_case("linear_3d_input", {2, 3, 4}, 5, true),
      linear_case("linear_1d_input", {4}, 3, true),
      linear_residual_case("linear_residual_accumulates", linear),
      // h is the input and the weight, and also on the residual path: both of linear's GEMMs
      // would add into h's one pending gradient.
      {"linear_input_is_weight_accumulates", "op",
       [](Generator& g) {
         Tensor x = grad_input({4, 4}, g), b = grad_input({4}, g);
         return GradProblem{{x, b}, [=] {
                              const Tensor h = tanh(x);
                              return add(linear(h, h, b), h);
                            }};
       }},
      {"linear_transposed_input", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g), w = grad_input({2, 3}, g), b = grad_input({2}, g);
         return GradProblem{{x, w, b}, [=] { return linear(transpose(x, 0, 1), w, b); }};
       }},
      linear_case("linear_relu_2d", {4, 3}, 5, true, linear_relu),
      linear_case("linear_relu_no_bias", {4, 3}, 5, false, linear_relu),
      linear_case("linear_relu_3d_size1_dim", {2, 1, 4}, 6, true, linear_relu),
      linear_residual_case("linear_relu_residual_accumulates", linear_relu),
      {"linear_relu_transposed_input", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g), w = grad_input({2, 3}, g), b = grad_input({2}, g);
         return GradProblem{{x, w, b}, [=] { return linear_relu(transpose(x, 0, 1), w, b); }};
       }},
  };
}

}  // namespace sg
