// FileBatcher: file order without shuffling, per-epoch permutations, determinism, bucketing,
// token-based batches (--max-tokens), and resuming from an exported position with
// bit-identical batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>

#include "datasets/file_batcher.h"

namespace sg {
namespace {

// docs/data.md: the width an example takes in a token-based batch, its longer side + <eos>.
int64_t width(const Example& e) {
  return static_cast<int64_t>(std::max(e.src.size(), e.tgt.size())) + 1;
}

using Ids = std::vector<int64_t>;

// Example i has a source of length 1 + (i * 7) % 9 starting with id 4 + i (so rows identify
// their example), and a target of length 1 + (i * 5) % 6.
std::vector<Example> make_data(int n) {
  std::vector<Example> d;
  for (int i = 0; i < n; ++i) {
    Ids src(1 + (i * 7) % 9, 4), tgt(1 + (i * 5) % 6, 5);
    src[0] = 4 + i;
    d.push_back({src, tgt});
  }
  return d;
}

void expect_same_batch(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.src.shape, b.src.shape);
  EXPECT_EQ(a.src.data, b.src.data);
  EXPECT_EQ(a.tgt_in.data, b.tgt_in.data);
  EXPECT_EQ(a.tgt_out.data, b.tgt_out.data);
  EXPECT_EQ(a.n_tgt_tokens, b.n_tgt_tokens);
}

TEST(FileBatcher, NoShuffleKeepsFileOrderWithTheLastPartialBatch) {
  const auto data = make_data(10);
  FileBatcher fb(data, {.batch_size = 3, .shuffle = false});
  EXPECT_EQ(fb.batches_per_epoch(), 4);
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(fb.epoch(), epoch);
      EXPECT_EQ(fb.batch_in_epoch(), k);
      const Batch b = fb.next();
      Ids want;
      for (int i = 3 * k; i < std::min(3 * k + 3, 10); ++i) want.push_back(i);
      ASSERT_EQ(b.index, want);
      for (size_t r = 0; r < want.size(); ++r)
        EXPECT_EQ(b.src.data[r * b.src.shape[1]], 4 + want[r]);
    }
  }
  EXPECT_EQ(fb.epoch(), 2);
}

std::vector<Ids> epoch_orders(FileBatcher& fb, int epochs) {
  std::vector<Ids> out;
  for (int e = 0; e < epochs; ++e) {
    Ids order;
    for (int64_t k = 0; k < fb.batches_per_epoch(); ++k) {
      const Batch b = fb.next();
      order.insert(order.end(), b.index.begin(), b.index.end());
    }
    out.push_back(order);
  }
  return out;
}

TEST(FileBatcher, ShuffleDrawsAFreshPermutationEachEpochFromTheSeed) {
  const auto data = make_data(23);
  FileBatcher a(data, {.batch_size = 4, .seed = 1}), b(data, {.batch_size = 4, .seed = 1}),
      c(data, {.batch_size = 4, .seed = 2});
  const auto oa = epoch_orders(a, 3), ob = epoch_orders(b, 3), oc = epoch_orders(c, 3);
  EXPECT_EQ(oa, ob);
  EXPECT_NE(oa, oc);
  EXPECT_NE(oa[0], oa[1]);
  Ids identity(23);
  for (int i = 0; i < 23; ++i) identity[i] = i;
  for (auto order : oa) {
    EXPECT_NE(order, identity);
    std::sort(order.begin(), order.end());
    EXPECT_EQ(order, identity);  // each epoch visits every example once
  }
}

void expect_resume_identical(const FileBatcherOptions& opt, int before) {
  const auto data = make_data(29);
  FileBatcher straight(data, opt), first(data, opt);
  for (int i = 0; i < before; ++i) {
    straight.next();
    first.next();
  }
  const BatcherPosition pos = first.position();
  FileBatcherOptions other = opt;
  other.seed = opt.seed + 1000;  // the restored position, not the seed, decides
  FileBatcher resumed(data, other);
  resumed.restore(pos);
  EXPECT_EQ(resumed.position(), pos);
  for (int i = 0; i < 25; ++i) expect_same_batch(straight.next(), resumed.next());
}

TEST(FileBatcher, ResumesMidEpochBitIdentically) {
  expect_resume_identical({.batch_size = 4, .shuffle = true, .seed = 7}, 11);
}
TEST(FileBatcher, ResumesAtAnEpochBoundaryBitIdentically) {
  expect_resume_identical({.batch_size = 4, .shuffle = true, .seed = 7}, 8);  // 8 per epoch
}
TEST(FileBatcher, ResumesWithBucketingBitIdentically) {
  expect_resume_identical({.batch_size = 3, .shuffle = true, .bucket_batches = 2, .seed = 3}, 13);
}

TEST(FileBatcher, BucketingSortsWindowsByLength) {
  const auto data = make_data(12);
  // No shuffle: windows of 2*3 = 6 examples in file order, each sorted by (src, tgt) length.
  FileBatcher fb(data, {.batch_size = 3, .shuffle = false, .bucket_batches = 2});
  std::vector<Ids> batches;
  for (int k = 0; k < 4; ++k) batches.push_back(fb.next().index);
  // Source lengths 1 + 7i mod 9: i=0..5 -> 1 8 6 4 2 9; i=6..11 -> 7 5 3 1 8 6.
  EXPECT_EQ(batches, (std::vector<Ids>{{0, 4, 3}, {2, 1, 5}, {9, 8, 7}, {11, 6, 10}}));
}

TEST(FileBatcher, BucketingWithShuffleReducesPaddingAndCoversTheData) {
  const auto data = make_data(200);
  FileBatcher plain(data, {.batch_size = 8, .seed = 5}),
      bucketed(data, {.batch_size = 8, .bucket_batches = 5, .seed = 5});
  int64_t pad_plain = 0, pad_bucketed = 0;
  std::set<int64_t> seen;
  for (int64_t k = 0; k < plain.batches_per_epoch(); ++k) {
    const Batch a = plain.next(), b = bucketed.next();
    pad_plain += a.src.numel() - std::count_if(a.src.data.begin(), a.src.data.end(),
                                               [](int64_t v) { return v != 0; });
    pad_bucketed += b.src.numel() - std::count_if(b.src.data.begin(), b.src.data.end(),
                                                  [](int64_t v) { return v != 0; });
    seen.insert(b.index.begin(), b.index.end());
  }
  EXPECT_EQ(seen.size(), 200u);
  EXPECT_LT(pad_bucketed * 2, pad_plain);
}

TEST(FileBatcher, RejectsBadSettings) {
  const auto data = make_data(5);
  try {
    FileBatcher(data, {.batch_size = 0});
    FAIL() << "batch 0 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--batch must be >= 1, got 0");
  }
  EXPECT_THROW(FileBatcher(std::vector<Example>{}, {}), std::invalid_argument);
  FileBatcher fb(data, {.batch_size = 2});
  EXPECT_THROW(fb.restore({.epoch = 0, .batch = 3}), std::invalid_argument);
}

// --max-tokens: examples of varied lengths (source 1..30, target 1..17 tokens).
std::vector<Example> varied_data(int n) {
  std::vector<Example> d;
  for (int i = 0; i < n; ++i)
    d.push_back({Ids(1 + (i * 13) % 30, 4 + i), Ids(1 + (i * 7) % 17, 5)});
  return d;
}

TEST(FileBatcher, MaxTokensBatchesStayWithinTheBudgetAndCoverEveryExampleOnce) {
  const auto data = varied_data(150);
  constexpr int64_t N = 64;
  FileBatcher fb(data, {.batch_size = 1, .seed = 3, .max_tokens = N});
  Ids all(data.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  for (int epoch = 0; epoch < 3; ++epoch) {
    Ids seen;
    std::vector<std::tuple<int64_t, int64_t, int64_t>> spans;  // shortest, longest row; rows
    for (int64_t k = 0; k < fb.batches_per_epoch(); ++k) {
      const Batch b = fb.next();
      // Padding counts: both padded tensors fit the budget.
      EXPECT_LE(b.src.numel(), N);
      EXPECT_LE(b.tgt_out.numel(), N);
      EXPECT_LE(b.size() * std::max(b.src.shape[1], b.tgt_out.shape[1]), N);
      int64_t lo = N, hi = 0;
      for (const int64_t i : b.index) {
        lo = std::min(lo, width(data[i]));
        hi = std::max(hi, width(data[i]));
      }
      EXPECT_EQ(hi, std::max(b.src.shape[1], b.tgt_out.shape[1]));
      spans.emplace_back(lo, hi, b.size());
      seen.insert(seen.end(), b.index.begin(), b.index.end());
    }
    EXPECT_EQ(fb.epoch(), epoch + 1);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, all);  // every example exactly once an epoch
    // Similar lengths go together: sorted by length, batches overlap at most at their ends; and
    // a batch ends only where the next row would not fit (greedy).
    std::sort(spans.begin(), spans.end());
    for (size_t k = 1; k < spans.size(); ++k) {
      const int64_t hi = std::get<1>(spans[k - 1]), rows = std::get<2>(spans[k - 1]),
                    next = std::get<0>(spans[k]);
      EXPECT_LE(hi, next) << "batch spans overlap";
      EXPECT_GT((rows + 1) * next, N) << "a batch with room left";
    }
  }
}

TEST(FileBatcher, MaxTokensShufflesBatchesWithTheSeedAndResumesExactly) {
  const auto data = varied_data(80);
  const FileBatcherOptions opt{.batch_size = 1, .seed = 11, .max_tokens = 50};
  FileBatcher a(data, opt), b(data, opt), c(data, {.batch_size = 1, .seed = 12, .max_tokens = 50});
  const auto oa = epoch_orders(a, 2), ob = epoch_orders(b, 2), oc = epoch_orders(c, 2);
  EXPECT_EQ(oa, ob);
  EXPECT_NE(oa, oc);
  EXPECT_NE(oa[0], oa[1]);  // a fresh batch order each epoch
  // Without shuffling: the same length-sorted batches every epoch, shortest first.
  FileBatcher plain(data, {.batch_size = 1, .shuffle = false, .max_tokens = 50});
  const auto op = epoch_orders(plain, 2);
  EXPECT_EQ(op[0], op[1]);
  for (size_t k = 1; k < op[0].size(); ++k)
    EXPECT_LE(width(data[op[0][k - 1]]), width(data[op[0][k]]));
  expect_resume_identical({.batch_size = 1, .shuffle = true, .seed = 5, .max_tokens = 24}, 9);
}

TEST(FileBatcher, MaxTokensFillsBatchesGreedily) {
  // Ten examples of 3 tokens + <eos>: 4 wide, so 10 tokens hold 2 rows, 12 hold 3.
  const std::vector<Example> data(10, Example{{4, 5, 6}, {7, 8, 9}});
  for (const auto& [n, rows] : {std::pair<int64_t, int64_t>{10, 2}, {12, 3}, {4, 1}, {40, 10}}) {
    FileBatcher fb(data, {.batch_size = 7, .shuffle = false, .max_tokens = n});
    EXPECT_EQ(fb.batches_per_epoch(), (10 + rows - 1) / rows) << n;
    EXPECT_EQ(fb.next().size(), rows) << n;
  }
}

TEST(FileBatcher, MaxTokensBelowTheLongestExampleIsRejected) {
  const auto data = make_data(6);  // example 6 (i = 5): source of 9 tokens, 10 with <eos>
  try {
    FileBatcher(data, {.max_tokens = 9});
    FAIL() << "max_tokens 9 accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "--max-tokens 9 is smaller than the longest example (number 6, 10 tokens with "
                 "<eos>)");
  }
  EXPECT_NO_THROW(FileBatcher(data, {.max_tokens = 10}));
  EXPECT_THROW(FileBatcher(data, {.max_tokens = -1}), std::invalid_argument);
}

}  // namespace
}  // namespace sg
