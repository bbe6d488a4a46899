// autograd/fast_exp.h: both overloads against std::exp over the range their callers meet, and
// their ends (a masked score, e^0).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "autograd/fast_exp.h"

namespace sg {
namespace {

// Distance in units in the last place between two positive floats.
int64_t ulps(float a, float b) {
  return std::abs(int64_t{std::bit_cast<int32_t>(a)} - int64_t{std::bit_cast<int32_t>(b)});
}

TEST(FastExp, FloatIsWithinTwoUlpOfTheLibraryAndZeroWhenMasked) {
  int64_t worst = 0;
  for (float x = -87.0f; x <= 88.0f; x += 0.00731f) {
    const int64_t d = ulps(fast_exp(x), std::exp(x));
    worst = std::max(worst, d);
    ASSERT_LE(d, 2) << x;
  }
  EXPECT_GT(worst, 0);  // the loop met the polynomial's rounding: it is not std::exp itself
  EXPECT_EQ(fast_exp(0.0f), 1.0f);
  EXPECT_EQ(fast_exp(-87.5f), 0.0f);
  EXPECT_EQ(fast_exp(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isnan(fast_exp(std::numeric_limits<float>::quiet_NaN())));
}

TEST(FastExp, DoubleIsWithinAFewUlpOfTheLibraryForNonpositiveArguments) {
  for (double x = -745.0; x <= 0.0; x += 0.0137) {
    const double want = std::exp(std::max(x, -700.0));
    ASSERT_NEAR(fast_exp(x), want, 4e-16 * want) << x;
  }
  EXPECT_EQ(fast_exp(0.0), 1.0);
  EXPECT_EQ(fast_exp(-std::numeric_limits<double>::infinity()), std::exp(-700.0));
}

}  // namespace
}  // namespace sg
