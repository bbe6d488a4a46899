// Internal to the fused attention ops: attention dropout's mask as a pure function of the call's
// 64-bit seed and an entry's absolute position (b, h, i, j) in the (B, H, Tq, Tk) probabilities.
// Neither route stores it: each computes the entries of the rows and keys it works on, in the
// forward and again in the backward, so the mask cannot depend on tile sizes, the route or the
// thread count. Counter-based, as Philox is for cuRAND and flash attention:
//   row(b, h, i) = c(c(c(seed, b), h), i),   u(b, h, i, j) = c(row(b, h, i), j),
//   keep iff u >= p 2^64,
// with c = counter_u64 (random.h, as the dropout op's mask), c(key, n) = mix(key + (n+1) G), mix
// the splitmix64 finalizer and G its increment (2^64 / golden ratio): u over j is the splitmix64
// sequence seeded with the row's key, a 64-bit stream that passes BigCrush, and the loop over j
// is branch-free 64-bit integer arithmetic that GCC vectorizes. A kept entry is
// scaled by 1 / (1 - p), so the expected output is unchanged.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "autograd/ops.h"
#include "autograd/random.h"

namespace sg::attn {

// One call's mask. Inactive (p == 0, the default) keeps everything and is never evaluated.
struct DropMask {
  bool active = false;
  uint64_t seed = 0, threshold = 0;  // keep iff u >= threshold = p 2^64
  double scale = 1;                  // 1 / (1 - p)

  DropMask() = default;
  explicit DropMask(const AttentionDropout& d) : seed(d.seed) {
    if (!(d.p >= 0 && d.p < 1))
      throw std::invalid_argument("attention: dropout probability " + std::to_string(d.p) +
                                  " must be in [0, 1)");
    active = d.p > 0;
    // p < 1 is at most 1 - 2^-53, so p 2^64 < 2^64 converts exactly.
    threshold = active ? static_cast<uint64_t>(std::ldexp(d.p, 64)) : 0;
    scale = 1.0 / (1.0 - d.p);
  }

  // The key of query row i of head (b, h).
  uint64_t row(int64_t b, int64_t h, int64_t i) const {
    const auto c = [](uint64_t key, int64_t n) {
      return counter_u64(key, static_cast<uint64_t>(n));
    };
    return c(c(c(seed, b), h), i);
  }

  bool keep(uint64_t row_key, int64_t j) const {
    return counter_u64(row_key, static_cast<uint64_t>(j)) >= threshold;
  }

  // out[j] = p[j] / (1 - p) where key j0 + j of the row is kept, else 0, for j < n (out may be p).
  template <class T>
  void apply(const T* p, T* out, int64_t n, uint64_t row_key, int64_t j0) const {
    const T sc = static_cast<T>(scale);
    const uint64_t thr = threshold;
    for (int64_t j = 0; j < n; ++j) {
      const uint64_t u = counter_u64(row_key, static_cast<uint64_t>(j0 + j));
      out[j] = u >= thr ? p[j] * sc : T(0);
    }
  }
};

}  // namespace sg::attn
