// MultiHeadAttention as self- and cross-attention: shapes, masks, weights, fully masked rows,
// attention dropout in training only (one seed per call from the dropout generator).
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "autograd/random.h"
#include "layers/attention.h"

namespace sg {
namespace {

TEST(Attention, SelfAttentionCausalWeightsAreZeroAboveDiagonal) {
  Generator g(1);
  MultiHeadAttention mha(8, 2, 0.0, nullptr, g);
  const Tensor x = Tensor::randn({2, 5, 8}, g);
  const IntTensor mask = causal_mask(5);
  Tensor w;
  const Tensor y = mha.forward_self(x, &mask, &w);
  EXPECT_EQ(y.shape(), (Shape{2, 5, 8}));
  ASSERT_EQ(w.shape(), (Shape{2, 2, 5, 5}));
  const auto p = w.to_vector();
  for (int64_t bh = 0; bh < 4; ++bh)
    for (int64_t i = 0; i < 5; ++i) {
      double row = 0;
      for (int64_t j = 0; j < 5; ++j) {
        const double v = p[(bh * 5 + i) * 5 + j];
        if (j > i) {
          EXPECT_EQ(v, 0.0);
        }
        row += v;
      }
      EXPECT_NEAR(row, 1.0, 1e-6);
    }
}

// Eval mode drops nothing and draws nothing; training draws one seed per call, repeats from the
// same generator state, gives the same output with and without the weights (the full and the
// blocked route drop the same entries), and its weights are the probabilities before dropout.
TEST(Attention, DropsProbabilitiesInTrainingOnlyFromOneSeedPerCall) {
  Generator init(5), init0(5), drop_gen(9);
  MultiHeadAttention mha(16, 2, 0.3, &drop_gen, init), plain(16, 2, 0.0, nullptr, init0);
  const Tensor x = Tensor::randn({2, 21, 16}, init);
  const IntTensor mask = causal_mask(21);
  const Generator::State start = drop_gen.state();
  mha.eval();
  Tensor w_eval;
  const auto y_eval = mha.forward_self(x, &mask, &w_eval).to_vector();
  Tensor w_plain;
  EXPECT_EQ(y_eval, plain.forward_self(x, &mask, &w_plain).to_vector());
  EXPECT_EQ(drop_gen.state(), start);
  mha.train();
  Tensor w;
  const auto y = mha.forward_self(x, &mask, &w).to_vector();
  Generator once;
  once.set_state(start);
  once.next_u64();
  EXPECT_EQ(drop_gen.state(), once.state());
  EXPECT_NE(y, y_eval);
  EXPECT_EQ(w.to_vector(), w_eval.to_vector());
  drop_gen.set_state(start);
  const auto blocked = mha.forward_self(x, &mask).to_vector();
  ASSERT_EQ(blocked.size(), y.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(blocked[i], y[i], 2e-6) << i;
  drop_gen.set_state(start);
  EXPECT_EQ(mha.forward_self(x, &mask).to_vector(), blocked);
}

TEST(Attention, CrossAttentionTakesDifferentLengthsAndKeyPadding) {
  Generator g(2);
  MultiHeadAttention mha(8, 4, 0.0, nullptr, g);
  const Tensor q = Tensor::randn({2, 3, 8}, g), mem = Tensor::randn({2, 6, 8}, g);
  const IntTensor mask =
      key_padding_mask(IntTensor({2, 6}, {5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0}), 0);
  Tensor w;
  const Tensor y = mha.forward_cross(q, mem, &mask, &w);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 8}));
  ASSERT_EQ(w.shape(), (Shape{2, 4, 3, 6}));
  const auto p = w.to_vector();
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 2; j < 6; ++j) EXPECT_EQ(p[((4 + h) * 3 + i) * 6 + j], 0.0);
}

TEST(Attention, FullyMaskedRowGivesZerosNotNaN) {
  Generator g(3);
  MultiHeadAttention mha(8, 2, 0.0, nullptr, g);
  Tensor x = Tensor::randn({1, 3, 8}, g);
  x.set_requires_grad(true);
  const IntTensor mask({1, 1, 1, 3}, {1, 1, 1});  // every key masked
  Tensor w;
  Tensor y = mha.forward_self(x, &mask, &w);
  for (double v : w.to_vector()) EXPECT_EQ(v, 0.0);
  for (double v : y.to_vector()) EXPECT_TRUE(std::isfinite(v));
  sum(y).backward();
  for (double v : x.grad().to_vector()) EXPECT_TRUE(std::isfinite(v));
}

TEST(Attention, RejectsMismatchedShapes) {
  Generator g(4);
  MultiHeadAttention mha(8, 2, 0.0, nullptr, g);
  EXPECT_THROW(mha.forward_cross(Tensor::zeros({2, 3, 6}), Tensor::zeros({2, 3, 8}), nullptr),
               std::invalid_argument);
  EXPECT_THROW(mha.forward_cross(Tensor::zeros({2, 3, 8}), Tensor::zeros({2, 3, 6}), nullptr),
               std::invalid_argument);
  EXPECT_THROW(mha.forward_cross(Tensor::zeros({2, 3, 8}), Tensor::zeros({3, 3, 8}), nullptr),
               std::invalid_argument);
  EXPECT_THROW(mha.forward_self(Tensor::zeros({2, 3, 6}), nullptr), std::invalid_argument);
  EXPECT_THROW(mha.forward_self(Tensor::zeros({3, 8}), nullptr), std::invalid_argument);
  EXPECT_THROW(MultiHeadAttention(8, 3, 0.0, nullptr, g), std::invalid_argument);
}

TEST(Attention, MasksCombineByBroadcastOr) {
  const IntTensor m =
      combine_masks(causal_mask(3), key_padding_mask(IntTensor({2, 3}, {4, 4, 0, 4, 0, 0}), 0));
  ASSERT_EQ(m.shape, (Shape{2, 1, 3, 3}));
  const std::vector<int64_t> want = {0, 1, 1, 0, 0, 1, 0, 0, 1,  // batch 0: key 2 padded
                                     0, 1, 1, 0, 1, 1, 0, 1, 1};
  EXPECT_EQ(m.data, want);
}

}  // namespace
}  // namespace sg
