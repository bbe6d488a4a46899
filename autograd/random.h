// Seeded random generator (xoshiro256**, seeded through splitmix64) for initialization, dropout
// and data shuffling. Its whole state is four integers, so checkpoints can save and restore it.
#pragma once

#include <array>
#include <cstdint>

namespace sg {

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
