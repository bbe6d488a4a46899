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

// The double overload's 2^n as it was first built, from n converted to an integer: the bits that
// beam search's scores were computed with, which taking 2^n from the shifted sum's bits keeps.
double fast_exp_by_conversion(double x) {
  constexpr double kLog2e = 1.4426950408889634, kShifter = 0x1.8p52;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  x = x < -700.0 ? -700.0 : x;
  const double n = (x * kLog2e + kShifter) - kShifter;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = 1.0 / 6227020800.0;
  for (double c :
       {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
        1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0})
    p = p * r + c;
  const auto bits = static_cast<uint64_t>(static_cast<int64_t>(n) + 1023) << 52;
  return p * std::bit_cast<double>(bits);
}

TEST(FastExp, DoubleHasTheBitsOfTwoToTheNByConversion) {
  int64_t n = 0;
  for (double x = -720.0; x <= 0.0; x += 0.00917, ++n)
    ASSERT_EQ(std::bit_cast<uint64_t>(fast_exp(x)),
              std::bit_cast<uint64_t>(fast_exp_by_conversion(x)))
        << x;
  EXPECT_GT(n, 70000);
  EXPECT_EQ(fast_exp(-1e300), fast_exp_by_conversion(-700.0));
}

}  // namespace
}  // namespace sg
