// Gradcheck rows for the neural-network ops: softmax along the last and a leading dim and on a
// strided view, layer_norm with and without affine parameters, embedding with a repeated id,
// broadcast and fully-masked masked_fill, dropout with a fixed mask, and cross_entropy with
// ignored targets and label smoothing.
#include <limits>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace sg {

namespace {

GradCase cross_entropy_case(const std::string& name, IntTensor targets, int64_t ignore_index,
                            double smoothing) {
  return {
      name, "op", [=](Generator& g) {
        Tensor x = grad_input({targets.numel(), 5}, g, -2, 2);
        return GradProblem{{x}, [=] { return cross_entropy(x, targets, ignore_index, smoothing); }};
      }};
}

}  // namespace

std::vector<GradCase> nn_grad_cases() {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<GradCase> cases = {
      {"softmax", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 5}, g, -2, 2);
         return GradProblem{{x}, [=] { return softmax(x, -1); }};
       }},
      // Rows along dim 0 are strided (stride 6).
      {"softmax_dim0", "op",
       [](Generator& g) {
         Tensor x = grad_input({4, 3, 2}, g, -2, 2);
         return GradProblem{{x}, [=] { return softmax(x, 0); }};
       }},
      {"softmax_transposed_view", "op",
       [](Generator& g) {
         Tensor x = grad_input({5, 3}, g, -2, 2);
         return GradProblem{{x}, [=] { return softmax(transpose(x, 0, 1), -1); }};
       }},
      // x on two paths: softmax(x) * x.
      {"softmax_reused", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g, -2, 2);
         return GradProblem{{x}, [=] { return mul(softmax(x, -1), x); }};
       }},
      {"log_softmax", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 5}, g, -2, 2);
         return GradProblem{{x}, [=] { return log_softmax(x, -1); }};
       }},
      {"log_softmax_dim1", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 4, 3}, g, -2, 2);
         return GradProblem{{x}, [=] { return log_softmax(x, 1); }};
       }},
      {"layer_norm_affine", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 6}, g, -2, 2), w = grad_input({6}, g, 0.5, 1.5),
                b = grad_input({6}, g);
         return GradProblem{{x, w, b}, [=] { return layer_norm(x, w, b, 1e-5); }};
       }},
      {"layer_norm_no_affine", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 6}, g, -2, 2);
         return GradProblem{{x}, [=] { return layer_norm(x, Tensor(), Tensor(), 1e-5); }};
       }},
      {"layer_norm_3d", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 3, 5}, g, -2, 2), w = grad_input({5}, g, 0.5, 1.5),
                b = grad_input({5}, g);
         return GradProblem{{x, w, b}, [=] { return layer_norm(x, w, b, 1e-5); }};
       }},
      // More rows than one backward block (32): gw and gb add up partial sums of three blocks,
      // the last one partial.
      {"layer_norm_many_rows", "op",
       [](Generator& g) {
         Tensor x = grad_input({70, 3}, g, -2, 2), w = grad_input({3}, g, 0.5, 1.5),
                b = grad_input({3}, g);
         return GradProblem{{x, w, b}, [=] { return layer_norm(x, w, b, 1e-5); }};
       }},
      // Id 1 appears three times and id 4 twice, so their gradient rows accumulate.
      {"embedding_repeated_ids", "op",
       [](Generator& g) {
         Tensor w = grad_input({5, 3}, g);
         const IntTensor ids({2, 3}, {1, 4, 1, 0, 4, 1});
         return GradProblem{{w}, [=] { return embedding(w, ids); }};
       }},
      {"masked_fill", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 4}, g);
         const IntTensor mask({3, 4}, {0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1});
         return GradProblem{{x}, [=] { return masked_fill(x, mask, 0.5); }};
       }},
      // A key-padding mask (B, 1, 1, Tk) onto attention scores (B, H, Tq, Tk).
      {"masked_fill_broadcast_mask", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 2, 3, 4}, g);
         const IntTensor mask({2, 1, 1, 4}, {0, 0, 1, 1, 0, 1, 0, 0});
         return GradProblem{{x}, [=] { return masked_fill(x, mask, -1.5); }};
       }},
      // Row 1 is masked entirely with -inf: softmax gives zeros there, finite values everywhere
      // and a zero gradient for the whole row.
      {"masked_fill_full_row_softmax", "op",
       [inf](Generator& g) {
         Tensor x = grad_input({3, 4}, g);
         const IntTensor mask({3, 4}, {0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0});
         return GradProblem{{x}, [=] { return softmax(masked_fill(x, mask, -inf), -1); }};
       }},
      // A key-padding mask (B, 1, 1, Tk) onto scores (B, H, Tq, Tk); batch 1 is masked entirely,
      // so its rows are zeros with a zero gradient.
      {"masked_softmax_broadcast_mask", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 2, 3, 4}, g, -2, 2);
         const IntTensor mask({2, 1, 1, 4}, {0, 0, 1, 0, 1, 1, 1, 1});
         return GradProblem{{x}, [=] { return masked_softmax(x, &mask, 0.5); }};
       }},
      {"masked_softmax_no_mask_size1", "op",
       [](Generator& g) {
         Tensor x = grad_input({3, 1, 5}, g, -2, 2);
         return GradProblem{{x}, [=] { return masked_softmax(x, nullptr, 1.3); }};
       }},
      // A causal mask, and x on two paths: masked_softmax(x) * x.
      {"masked_softmax_causal_reused", "op",
       [](Generator& g) {
         Tensor x = grad_input({2, 3, 3}, g, -2, 2);
         const IntTensor mask({1, 3, 3}, {0, 1, 1, 0, 0, 1, 0, 0, 0});
         return GradProblem{{x}, [=] { return mul(masked_softmax(x, &mask, 0.7), x); }};
       }},
      // A fresh generator per call, so every evaluation uses the same mask.
      {"dropout", "op",
       [](Generator& g) {
         Tensor x = grad_input({4, 5}, g);
         return GradProblem{{x}, [=] {
                              Generator mask_gen(1234);
                              return dropout(x, 0.3, mask_gen, true);
                            }};
       }},
      cross_entropy_case("cross_entropy", IntTensor({4}, {2, 0, 4, 1}), -100, 0.0),
      cross_entropy_case("cross_entropy_ignore_index", IntTensor({5}, {2, 0, 4, 0, 1}), 0, 0.0),
      cross_entropy_case("cross_entropy_label_smoothing", IntTensor({4}, {2, 0, 4, 1}), -100, 0.1),
      cross_entropy_case("cross_entropy_smoothing_and_ignore", IntTensor({5}, {2, 0, 4, 0, 1}), 0,
                         0.2),
  };
  return cases;
}

}  // namespace sg
