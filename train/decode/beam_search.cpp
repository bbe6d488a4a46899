// Batched beam search (decode.h beam_search): all sources of a batch decode together, `beam` rows
// per source in the Stepper, and a source's rows leave the batch as soon as it has finished.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/ops.h"
#include "train/decode/decode.h"

namespace sg {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// A source still decoding: rows [slot * K, slot * K + K) of the Stepper hold its K hypotheses
// (dead ones score -inf).
struct Live {
  int64_t index;  // its row in src
  int64_t limit;  // decode_limit of the source
  std::vector<std::vector<int64_t>> hyps;
  std::vector<double> score;  // log p of each hypothesis so far
  std::vector<Hypothesis> finished;
};

int64_t argmax(const double* row, int64_t n) {
  return std::max_element(row, row + n) - row;
}

// One step of one source: lp (rows, V) log-probabilities of the Stepper's rows, its rows at
// `first`. Moves finished hypotheses to s.finished and the best K live continuations into s;
// `parents` gets their Stepper rows and `tokens` their last tokens. Returns false once the source
// is done (K finished, or nothing left alive).
bool advance(Live& s, const double* lp, int64_t first, int64_t K, int64_t V, int64_t t,
             double alpha, std::vector<int64_t>& parents, std::vector<int64_t>& tokens) {
  // Candidates (score, k * V + v), best first; ties by index for determinism. At the length
  // limit every live hypothesis ends (with the score of <eos> there), so that no output is
  // longer than the limit, as with greedy decoding.
  const bool last = t == s.limit;
  std::vector<std::pair<double, int64_t>> cand;
  cand.reserve(last ? K : K * V);
  for (int64_t k = 0; k < K; ++k) {
    if (s.score[k] == kNegInf) continue;
    const double* p = lp + (first + k) * V;
    for (int64_t v = last ? kEos : 0; v < (last ? kEos + 1 : V); ++v)
      cand.emplace_back(s.score[k] + p[v], k * V + v);
  }
  const size_t top = std::min<size_t>(cand.size(), 2 * K);
  std::partial_sort(cand.begin(), cand.begin() + top, cand.end(), [](auto& a, auto& c) {
    return a.first > c.first || (a.first == c.first && a.second < c.second);
  });
  std::vector<int64_t> parent, next_tok;
  std::vector<double> next_score;
  std::vector<std::vector<int64_t>> next_hyps;
  for (size_t i = 0; i < top && static_cast<int64_t>(parent.size()) < K; ++i) {
    const int64_t k = cand[i].second / V, v = cand[i].second % V;
    if (v == kEos) {
      const double len = static_cast<double>(s.hyps[k].size() + 1);
      s.finished.push_back({s.hyps[k], cand[i].first / std::pow(len, alpha),
                            last && argmax(lp + (first + k) * V, V) != kEos});
      continue;
    }
    parent.push_back(k);
    next_tok.push_back(v);
    next_score.push_back(cand[i].first);
    next_hyps.push_back(s.hyps[k]);
    next_hyps.back().push_back(v);
  }
  if (static_cast<int64_t>(s.finished.size()) >= K || parent.empty()) return false;
  // Pad the live set back to K rows with dead hypotheses.
  while (static_cast<int64_t>(parent.size()) < K) {
    parent.push_back(parent[0]);
    next_tok.push_back(next_tok[0]);
    next_score.push_back(kNegInf);
    next_hyps.push_back(next_hyps[0]);
  }
  for (int64_t k = 0; k < K; ++k) parents.push_back(first + parent[k]);
  tokens.insert(tokens.end(), next_tok.begin(), next_tok.end());
  s.score = std::move(next_score);
  s.hyps = std::move(next_hyps);
  return true;
}

}  // namespace

std::vector<std::vector<Hypothesis>> beam_search(const Models& models, const IntTensor& src,
                                                 const DecodeOptions& opt, DecodeCuts* cuts) {
  if (opt.beam < 1) throw std::invalid_argument("beam size must be at least 1");
  NoGradGuard ng;
  const int64_t B = src.shape.at(0), S = src.shape.at(1), K = opt.beam;
  std::vector<std::vector<Hypothesis>> results(B);
  if (B == 0) return results;
  // K copies of every source row; only the first hypothesis of each is live at the start.
  std::vector<int64_t> rows;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < K; ++k)
      rows.insert(rows.end(), src.data.begin() + b * S, src.data.begin() + (b + 1) * S);
  Stepper step(models, IntTensor({B * K, S}, std::move(rows)));
  const int64_t V = step.vocab();
  const std::vector<int64_t> limit =
      decode_limits(opt, src, models[0]->config().pad_id, step.table_len());
  std::vector<Live> live;
  for (int64_t b = 0; b < B; ++b) {
    Live s{b, limit[b], std::vector<std::vector<int64_t>>(K), std::vector<double>(K, kNegInf), {}};
    s.score[0] = 0.0;
    live.push_back(std::move(s));
  }
  std::vector<int64_t> tok(B * K, kBos);
  for (int64_t t = 0; !live.empty(); ++t) {
    // In float64, so that ranking matches greedy argmax on the raw logits.
    const Tensor lp = log_softmax(step.next(tok), -1);  // (rows, V)
    std::vector<int64_t> parents, tokens;
    std::vector<Live> still;
    for (size_t slot = 0; slot < live.size(); ++slot) {
      Live& s = live[slot];
      if (advance(s, lp.data<double>(), static_cast<int64_t>(slot) * K, K, V, t, opt.len_alpha,
                  parents, tokens)) {
        still.push_back(std::move(s));
        continue;
      }
      // Best first; among equal scores, the one finished first.
      std::stable_sort(s.finished.begin(), s.finished.end(),
                       [](const Hypothesis& a, const Hypothesis& c) { return a.score > c.score; });
      if (static_cast<int64_t>(s.finished.size()) > opt.n_best) s.finished.resize(opt.n_best);
      results[s.index] = std::move(s.finished);
    }
    const bool left = still.size() != live.size();
    live = std::move(still);
    if (live.empty()) break;
    step.keep(parents, left);
    tok = std::move(tokens);
  }
  if (cuts)
    for (int64_t b = 0; b < B; ++b) cuts->add(!results[b].empty() && results[b][0].cut, limit[b]);
  return results;
}

}  // namespace sg
