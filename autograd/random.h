// Seeded random generator (xoshiro256**, seeded through splitmix64) for initialization, dropout
// and data shuffling. Its whole state is four integers, so checkpoints can save and restore it.
// And counter-based draws for masks that many threads fill at once (dropout).
#pragma once

#include <array>
#include <cstdint>

namespace sg {

// splitmix64's increment (2^64 / the golden ratio) and finalizer, a bijection of 64-bit words
// in which every output bit depends on every input bit.
constexpr uint64_t kSplitmixGamma = 0x9E3779B97F4A7C15ULL;
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Word i of the splitmix64 sequence started at `key`: mix64(key + (i + 1) G), a pure function
// of (key, i), so a loop over i gives the same words in any order, on any thread, and again in
// a backward pass that recomputes them instead of storing a mask. Branch-free: GCC vectorizes
// loops of it.
inline uint64_t counter_u64(uint64_t key, uint64_t i) {
  return mix64(key + (i + 1) * kSplitmixGamma);
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) { seed_with(seed); }
  void seed_with(uint64_t seed);

  uint64_t next_u64();
  double uniform();                      // [0, 1), 53 random bits
  double uniform(double lo, double hi);  // [lo, hi)
  double normal();                       // N(0, 1), Box-Muller (no cached second value)
  uint64_t below(uint64_t n);            // uniform integer in [0, n), unbiased

  using State = std::array<uint64_t, 4>;
  State state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  State s_{};
};

}  // namespace sg
