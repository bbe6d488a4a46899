// One training pair as token ids of real tokens (ids >= 3: <unk> allowed), without <bos> or
// <eos>; batching adds those (docs/data.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace sg {

struct Example {
  std::vector<int64_t> src, tgt;
  bool operator==(const Example&) const = default;
};

// The lengths of a training set that decoding must not cut short (in tokens, without <bos> and
// <eos>): the longest target, and the largest target length / source length as a fraction in
// lowest terms (exact, and integers in a checkpoint). Zeros: unknown.
struct LengthStats {
  int64_t max_tgt_len = 0;
  int64_t ratio_num = 0, ratio_den = 0;
  bool known() const { return max_tgt_len > 0; }
  double ratio() const { return ratio_den ? static_cast<double>(ratio_num) / ratio_den : 0.0; }
  bool operator==(const LengthStats&) const = default;
};

// Over every example (an empty source counts as length 1).
inline LengthStats length_stats(const std::vector<Example>& data) {
  LengthStats s;
  for (const Example& e : data) {
    const auto t = static_cast<int64_t>(e.tgt.size());
    const auto n = std::max<int64_t>(static_cast<int64_t>(e.src.size()), 1);
    s.max_tgt_len = std::max(s.max_tgt_len, t);
    if (s.ratio_den == 0 || t * s.ratio_den > s.ratio_num * n) s.ratio_num = t, s.ratio_den = n;
  }
  if (const int64_t g = std::gcd(s.ratio_num, s.ratio_den); g > 1)
    s.ratio_num /= g, s.ratio_den /= g;
  return s;
}

}  // namespace sg
