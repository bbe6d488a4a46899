// Wall-clock seconds and medians for the standalone benchmark programs of bench/
// (gemm_libraries.cpp, packed_gemm.cpp).
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
