// Batch layout (docs/data.md): encoder input = source + <eos>, decoder input = <bos> + target,
// decoder target = target + <eos>, padded with 0; the padding masks the model derives from it.
// The length statistics of a set of examples.
#include <gtest/gtest.h>

#include <stdexcept>

#include "datasets/batch.h"

namespace sg {
namespace {

using Ids = std::vector<int64_t>;

TEST(Batch, LayoutAndPadding) {
  const Batch b = make_batch({{{5, 6, 7}, {8}}, {{9}, {10, 11, 12}}});
  EXPECT_EQ(b.size(), 2);
  EXPECT_EQ(b.src.shape, (Shape{2, 4}));
  EXPECT_EQ(b.src.data, (Ids{5, 6, 7, 2, 9, 2, 0, 0}));
  EXPECT_EQ(b.tgt_in.shape, (Shape{2, 4}));
  EXPECT_EQ(b.tgt_in.data, (Ids{1, 8, 0, 0, 1, 10, 11, 12}));
  EXPECT_EQ(b.tgt_out.shape, (Shape{2, 4}));
  EXPECT_EQ(b.tgt_out.data, (Ids{8, 2, 0, 0, 10, 11, 12, 2}));
  EXPECT_EQ(b.n_tgt_tokens, 6);
  EXPECT_TRUE(b.index.empty());
}

TEST(Batch, PadPositionsAreExactlyTheMaskedOnes) {
  // Rows of lengths 1..4: the key-padding mask (id == 0) of src must cover the positions after
  // each row's <eos>, and tgt_in and tgt_out must be padded at the same positions, so the
  // causal+padding mask of the decoder and the loss's ignore_index agree.
  std::vector<Example> ex;
  for (int64_t n = 1; n <= 4; ++n) ex.push_back({Ids(n, 4 + n), Ids(5 - n, 9)});
  const Batch b = make_batch(ex);
  const int64_t S = b.src.shape[1], T = b.tgt_in.shape[1];
  ASSERT_EQ(S, 5);
  ASSERT_EQ(T, 5);
  int64_t non_pad_out = 0;
  for (int64_t r = 0; r < 4; ++r) {
    const int64_t src_len = r + 1, tgt_len = 4 - r;
    for (int64_t s = 0; s < S; ++s) EXPECT_EQ(b.src.data[r * S + s] == 0, s > src_len);
    EXPECT_EQ(b.src.data[r * S + src_len], 2);
    for (int64_t t = 0; t < T; ++t) {
      EXPECT_EQ(b.tgt_in.data[r * T + t] == 0, t > tgt_len);
      EXPECT_EQ(b.tgt_out.data[r * T + t] == 0, t > tgt_len);
      non_pad_out += b.tgt_out.data[r * T + t] != 0;
    }
  }
  EXPECT_EQ(non_pad_out, b.n_tgt_tokens);
}

TEST(Batch, UnkIsARealTokenButSpecialsAreRejected) {
  EXPECT_EQ(make_batch({{{3}, {3}}}).src.data, (Ids{3, 2}));
  EXPECT_THROW(make_batch({{{4, 0}, {5}}}), std::invalid_argument);
  EXPECT_THROW(make_batch({{{4}, {2}}}), std::invalid_argument);
  EXPECT_THROW(make_batch(std::vector<Example>{}), std::invalid_argument);
}

TEST(Batch, LengthStatsAreTheLongestTargetAndTheLargestRatio) {
  EXPECT_FALSE(length_stats({}).known());
  // Targets 2, 7, 3 tokens long over sources of 4, 7, 1: the ratio peaks where the target is not
  // the longest.
  const std::vector<Example> data = {
      {{4, 4, 4, 4}, {5, 5}}, {{4, 4, 4, 4, 4, 4, 4}, Ids(7, 5)}, {{4}, {5, 5, 5}}};
  EXPECT_EQ(length_stats(data), (LengthStats{7, 3, 1}));
  // The ratio in lowest terms: 6 / 4 is 3 / 2, and a later equal ratio (9 / 6) changes nothing.
  const std::vector<Example> halves = {{Ids(4, 4), Ids(6, 5)}, {Ids(6, 4), Ids(9, 5)}};
  EXPECT_EQ(length_stats(halves), (LengthStats{9, 3, 2}));
  EXPECT_EQ(length_stats(halves).ratio(), 1.5);
}

}  // namespace
}  // namespace sg
