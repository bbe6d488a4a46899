// MultiHeadAttention as self- and cross-attention: shapes, masks, weights, fully masked rows.
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
