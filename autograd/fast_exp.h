// e^x in plain arithmetic that GCC vectorizes (with -fno-trapping-math, which CMakeLists.txt
// sets), unlike std::exp: the one hand-written exponential of the codebase, for loops over rows
// of scores (attention's tiles, cross-entropy, beam search's log-softmax).
// Both overloads split x = n ln 2 + r, n = round(x / ln 2) by a shifter constant (the sum rounds
// to an integer, whose low mantissa bits then hold n), ln 2 in two parts so that n ln2_hi is
// exact, e^r by a polynomial on [-ln2/2, ln2/2], and 2^n built from its exponent bits.
// Branch-free, so that a loop over a row vectorizes.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace sg {

// float: Cephes' degree-7 polynomial, within 2 ulp of std::exp for x <= 88 (a shifted score is
// <= 0). Below -87, and at -inf (a masked score), exactly 0.
inline float fast_exp(float x) {
  const float xc = std::min(std::max(x, -87.0f), 88.0f);
  const float t = xc * 1.44269504088896341f + 12582912.0f;  // 1.5 * 2^23
  const float n = t - 12582912.0f;
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (std::bit_cast<int32_t>(t) - 0x4B400000 + 127) << 23;  // 2^n
  return x < -87.0f ? 0.0f : p * std::bit_cast<float>(bits);
}

// double, for x <= 0: the Taylor polynomial of degree 13 (truncation below 5e-18), within a few
// ulp of std::exp. x below -700 counts as -700 (e^-700: a term no sum that holds e^0 = 1
// notices), so -inf gives e^-700, not 0.
inline double fast_exp(double x) {
  constexpr double kLog2e = 1.4426950408889634, kShifter = 0x1.8p52;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  x = x < -700.0 ? -700.0 : x;
  const double t = x * kLog2e + kShifter;
  const double n = t - kShifter;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  for (double c :
       {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0,
        1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0})
    p = p * r + c;
  // 2^n from t's bits, not from n converted to an integer (AVX2 has no vector conversion of
  // double to int64, so the conversion kept the loops scalar): t and the shifter share their
  // exponent, so their bits differ by n, modulo 2^64.
  const uint64_t bits = (std::bit_cast<uint64_t>(t) - std::bit_cast<uint64_t>(kShifter) + 1023)
                        << 52;
  return p * std::bit_cast<double>(bits);
}

// The exponential of a kernel templated on the element type: fast_exp in float (training), and
// std::exp in float64, which serves gradient checks, where accuracy matters more than speed.
inline float kernel_exp(float x) {
  return fast_exp(x);
}
inline double kernel_exp(double x) {
  return std::exp(x);
}

}  // namespace sg
