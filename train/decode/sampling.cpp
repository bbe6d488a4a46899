// Sampling (decode.h sample_decode): each next token drawn from the temperature-scaled softmax of
// the scores, restricted by top-k and top-p (nucleus) as Hugging Face and fairseq do it.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/random.h"
#include "train/decode/decode.h"

namespace sg {

namespace {

// The generator of row `row` of the whole input: its seed mixes the user's seed and the row, so
// that neighbouring seeds or rows do not share streams.
Generator row_generator(uint64_t seed, int64_t row) {
  Generator g(seed);
  return Generator(g.next_u64() ^ (static_cast<uint64_t>(row) * 0x9E3779B97F4A7C15ull));
}

// Draws one token from scores (V) of one row. `order` is scratch space.
int64_t draw(const double* scores, int64_t V, const DecodeOptions& opt, Generator& g,
             std::vector<int64_t>& order) {
  // The candidates, most likely first (ties: the lower id, as greedy's argmax): the order of the
  // raw scores, which dividing by a positive temperature keeps.
  int64_t n = V;
  order.resize(V);
  std::iota(order.begin(), order.end(), 0);
  auto better = [&](int64_t a, int64_t b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  };
  if (opt.top_k > 0 && opt.top_k < V) {
    n = opt.top_k;
    std::partial_sort(order.begin(), order.begin() + n, order.end(), better);
  } else if (opt.top_p < 1.0) {
    std::sort(order.begin(), order.end(), better);
  }
  // Probabilities of the candidates: softmax(scores / T) over them.
  const double top = scores[*std::min_element(order.begin(), order.begin() + n, better)];
  std::vector<double> p(n);
  double z = 0;
  for (int64_t i = 0; i < n; ++i) z += p[i] = std::exp((scores[order[i]] - top) / opt.temperature);
  // Nucleus: the fewest candidates (in order) whose probability reaches top_p (at least one).
  if (opt.top_p < 1.0) {
    double mass = 0;
    int64_t keep = 0;
    while (keep < n && (keep == 0 || mass < opt.top_p * z)) mass += p[keep++];
    n = keep;
    z = mass;
  }
  const double u = g.uniform() * z;
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) {
    acc += p[i];
    if (u < acc) return order[i];
  }
  return order[n - 1];  // u within rounding of the total
}

}  // namespace

std::vector<std::vector<int64_t>> sample_decode(const Models& models, const Source& src,
                                                const DecodeOptions& opt, DecodeCuts* cuts) {
  const int64_t B = src.batch();
  std::vector<Generator> gens;
  for (int64_t b = 0; b < B; ++b) gens.push_back(row_generator(opt.seed, opt.first_row + b));
  std::vector<int64_t> order;
  return decode_token_by_token(
      models, src, opt,
      [&](int64_t b, const double* row, int64_t V) { return draw(row, V, opt, gens[b], order); },
      cuts);
}

}  // namespace sg
