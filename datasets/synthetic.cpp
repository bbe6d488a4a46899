#include "datasets/synthetic.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace sg {

// Share of the sequences of one length that the held-out set may take.
static constexpr double kHeldOutShare = 0.1;

SyntheticTask::SyntheticTask(SyntheticKind kind, const TaskOptions& opt) : kind_(kind), opt_(opt) {
  if (opt.symbols < 1 || opt.symbols > 1000000)
    throw std::invalid_argument("--symbols must be in [1, 1000000], got " +
                                std::to_string(opt.symbols));
  if (opt.min_len < 1)
    throw std::invalid_argument("--min-len must be >= 1, got " + std::to_string(opt.min_len));
  if (opt.max_len < opt.min_len)
    throw std::invalid_argument("--max-len (" + std::to_string(opt.max_len) +
                                ") must be >= --min-len (" + std::to_string(opt.min_len) + ")");
  std::vector<std::string> symbols;
  for (int64_t k = 0; k < opt.symbols; ++k) symbols.push_back(std::to_string(k));
  vocab_ = Vocab::from_tokens(symbols);
}

std::string SyntheticTask::name() const {
  switch (kind_) {
    case SyntheticKind::copy:
      return "copy";
    case SyntheticKind::reverse:
      return "reverse";
    case SyntheticKind::sort:
      return "sort";
  }
  return "?";
}

std::vector<int64_t> SyntheticTask::target_for(const std::vector<int64_t>& src) const {
  std::vector<int64_t> t = src;
  if (kind_ == SyntheticKind::reverse) std::reverse(t.begin(), t.end());
  if (kind_ == SyntheticKind::sort) std::sort(t.begin(), t.end());
  return t;
}

std::vector<int64_t> SyntheticTask::draw_source(Generator& g, int64_t len) const {
  std::vector<int64_t> s(static_cast<size_t>(len));
  for (auto& id : s)
    id = Vocab::kNumSpecial + static_cast<int64_t>(g.below(static_cast<uint64_t>(opt_.symbols)));
  return s;
}

Example SyntheticTask::draw_train(Generator& g) const {
  const int64_t len =
      opt_.min_len +
      static_cast<int64_t>(g.below(static_cast<uint64_t>(opt_.max_len - opt_.min_len + 1)));
  Example e;
  e.src = draw_source(g, len);
  e.tgt = target_for(e.src);
  return e;
}

std::vector<Example> SyntheticTask::held_out(int64_t n, uint64_t seed) const {
  // cap[L]: how many held-out sources of length L are allowed (10% of N^L, saturating at n).
  const int64_t n_lens = opt_.max_len - opt_.min_len + 1;
  std::vector<int64_t> cap(static_cast<size_t>(n_lens)), count(cap.size(), 0);
  int64_t capacity = 0;
  for (int64_t k = 0; k < n_lens; ++k) {
    const double space = std::pow(static_cast<double>(opt_.symbols), opt_.min_len + k);
    cap[k] =
        static_cast<int64_t>(std::min(std::floor(kHeldOutShare * space), static_cast<double>(n)));
    capacity = std::min(capacity + cap[k], n);
  }
  if (capacity < n)
    throw std::invalid_argument("task " + name() + ": a held-out set of " + std::to_string(n) +
                                " distinct examples does not fit (at most " +
                                std::to_string(capacity) +
                                " with 10% of each length); raise --symbols or --max-len");
  Generator g(seed);
  std::set<std::vector<int64_t>> seen;
  std::vector<Example> out;
  while (static_cast<int64_t>(out.size()) < n) {
    const auto k = static_cast<size_t>(g.below(static_cast<uint64_t>(n_lens)));
    if (count[k] >= cap[k]) continue;
    Example e;
    e.src = draw_source(g, opt_.min_len + static_cast<int64_t>(k));
    if (!seen.insert(e.src).second) continue;
    ++count[k];
    e.tgt = target_for(e.src);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace sg
