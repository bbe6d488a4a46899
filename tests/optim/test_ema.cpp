// The moving average of the weights (optim/ema.h): its arithmetic against hand computations, its
// start at the parameters, torch's rounding of 1 - decay, the decay's bounds, the exact swap, and
// the same bits at any thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "autograd/parallel.h"
#include "optim/ema.h"

namespace sg {
namespace {

std::vector<float> values(const Tensor& t) {
  const float* p = t.data<float>();
  return std::vector<float>(p, p + t.numel());
}

TEST(Ema, FollowsTheHandComputedAverage) {
  // Decays whose products are exact in float32, so the expected values are exact.
  const Tensor w = Tensor::from_floats({1, -2, 0.5f}, {3});
  Ema ema({{"w", w}}, 0.75);
  ASSERT_EQ(ema.averages().size(), 1u);
  EXPECT_EQ(ema.averages()[0].first, "w");
  EXPECT_EQ(values(ema.averages()[0].second), (std::vector<float>{1, -2, 0.5f}));  // step 0
  // step 1: params (2, 2, 4.5): 0.75 * (1, -2, 0.5) + 0.25 * (2, 2, 4.5)
  w.copy_from(Tensor::from_floats({2, 2, 4.5f}, {3}));
  ema.update();
  EXPECT_EQ(values(ema.averages()[0].second), (std::vector<float>{1.25f, -1, 1.5f}));
  // step 2: params (4, -1, 1.5): 0.75 * (1.25, -1, 1.5) + 0.25 * (4, -1, 1.5)
  w.copy_from(Tensor::from_floats({4, -1, 1.5f}, {3}));
  ema.update();
  EXPECT_EQ(values(ema.averages()[0].second), (std::vector<float>{1.9375f, -1, 1.5f}));
  EXPECT_EQ(values(w), (std::vector<float>{4, -1, 1.5f}));  // the parameters untouched
}

TEST(Ema, RoundsOneMinusDecayOnceAsTorchDoes) {
  // torch's ema.mul_(0.9).add_(p, alpha=1 - 0.9): alpha is 1 - 0.9 in float64 rounded to float32
  // (0.1f), not 1 - float(0.9) (0.100000024f). From 0 with parameter 1, the average is alpha.
  const Tensor w = Tensor::from_floats({0}, {1});
  Ema ema({{"w", w}}, 0.9);
  w.copy_from(Tensor::from_floats({1}, {1}));
  ema.update();
  EXPECT_EQ(values(ema.averages()[0].second)[0], 0.1f);
  EXPECT_NE(0.1f, 1.0f - 0.9f);  // the two conventions differ here
  // One more step: 0.9f * 0.1f + 0.1f * 1, each product rounded, then the sum.
  ema.update();
  const float first = 0.1f, d = 0.9f, a = 0.1f;
  const float prod = first * d, step2 = prod + a;
  EXPECT_EQ(values(ema.averages()[0].second)[0], step2);
}

TEST(Ema, DecayMustLieStrictlyBetweenZeroAndOne) {
  const Tensor w = Tensor::from_floats({1}, {1});
  for (double bad : {0.0, 1.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(Ema({{"w", w}}, bad), std::invalid_argument) << bad;
  EXPECT_NO_THROW(Ema({{"w", w}}, 0.999));
}

TEST(Ema, SwapExchangesParametersAndAveragesExactly) {
  const Tensor w = Tensor::from_floats({1, 2}, {2});
  Ema ema({{"w", w}}, 0.5);
  w.copy_from(Tensor::from_floats({3, 6}, {2}));
  ema.update();  // averages (2, 4)
  ema.swap();
  EXPECT_EQ(values(w), (std::vector<float>{2, 4}));
  EXPECT_EQ(values(ema.averages()[0].second), (std::vector<float>{3, 6}));
  ema.swap();
  EXPECT_EQ(values(w), (std::vector<float>{3, 6}));
  EXPECT_EQ(ema.average_of(w), &ema.averages()[0].second);
  EXPECT_EQ(ema.average_of(Tensor::from_floats({3, 6}, {2})), nullptr);
}

TEST(Ema, OneAndTwoThreadsGiveTheSameBits) {
  // More elements than one thread's share (kParallelGrain), so two threads split the loop.
  const int64_t n = 3 * kParallelGrain + 7;
  std::vector<float> start(n), next(n);
  for (int64_t i = 0; i < n; ++i) {
    start[i] = std::sin(0.001f * static_cast<float>(i));
    next[i] = std::cos(0.003f * static_cast<float>(i));
  }
  std::vector<std::vector<float>> out;
  const int before = num_threads();
  for (int threads : {1, 2}) {
    use_threads(threads);
    const Tensor w = Tensor::from_floats(start, {n});
    Ema ema({{"w", w}}, 0.999);
    w.copy_from(Tensor::from_floats(next, {n}));
    ema.update();
    ema.update();
    out.push_back(values(ema.averages()[0].second));
  }
  use_threads(before);
  ASSERT_EQ(out[0].size(), out[1].size());
  EXPECT_EQ(std::memcmp(out[0].data(), out[1].data(), out[0].size() * sizeof(float)), 0);
  EXPECT_NE(out[0], start);
}

}  // namespace
}  // namespace sg
