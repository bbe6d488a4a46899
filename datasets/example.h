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

// Over n pairs whose lengths src_len(i) and tgt_len(i) give (an empty source counts as length 1).
template <class SrcLen, class TgtLen>
LengthStats length_stats(int64_t n, SrcLen&& src_len, TgtLen&& tgt_len) {
  LengthStats s;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = tgt_len(i);
    const int64_t m = std::max<int64_t>(src_len(i), 1);
    s.max_tgt_len = std::max(s.max_tgt_len, t);
    if (s.ratio_den == 0 || t * s.ratio_den > s.ratio_num * m) s.ratio_num = t, s.ratio_den = m;
  }
  if (const int64_t g = std::gcd(s.ratio_num, s.ratio_den); g > 1)
    s.ratio_num /= g, s.ratio_den /= g;
  return s;
}

// Over every example.
inline LengthStats length_stats(const std::vector<Example>& data) {
  const auto at = [&](int64_t i) -> const Example& { return data[static_cast<size_t>(i)]; };
  return length_stats(
      static_cast<int64_t>(data.size()),
      [&](int64_t i) { return static_cast<int64_t>(at(i).src.size()); },
      [&](int64_t i) { return static_cast<int64_t>(at(i).tgt.size()); });
}

}  // namespace sg
