// Batched beam search (decode.h beam_search): all sources of a batch decode together, `beam` rows
// per source in the Stepper, and a source's rows leave the batch as soon as it has finished.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/fast_exp.h"
#include "autograd/parallel.h"
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

// A continuation (score, k * V + v); better: the higher score, among equal ones the lower index.
using Candidate = std::pair<double, int64_t>;
bool better(const Candidate& a, const Candidate& c) {
  return a.first > c.first || (a.first == c.first && a.second < c.second);
}

// Four doubles in a vector, and the result of comparing two (all bits set where true).
using V4 = double __attribute__((vector_size(32)));
using M4 = int64_t __attribute__((vector_size(32)));

// The n best continuations (best first) of one source's K hypotheses, x (K, V) their rows of
// scores and score (K) their log p so far (-inf: dead): score_k + log p_v over every live k and
// token v (only <eos> at the length limit, `last`). Equal to ranking all K * V of them, without
// holding them: a continuation among the n best of all is among the n best of its hypothesis.
void best_continuations(const double* x, const double* score, int64_t K, int64_t V, bool last,
                        int64_t n, std::vector<Candidate>& best) {
  best.clear();
  if (n <= 0) return;
  for (int64_t k = 0; k < K; ++k) {
    if (score[k] == kNegInf) continue;
    const double* row = x + k * V;
    const double shift = log_sum_exp(row, V);
    const int64_t end = last ? kEos + 1 : V;
    for (int64_t v = last ? kEos : 0; v < end;) {
      // Once n are held, a block of eight none of which beats the last (a later index needs a
      // higher score) is passed over in one vectorizable test.
      if (static_cast<int64_t>(best.size()) == n && v + 8 <= end) {
        const V4 s = V4{} + score[k], sh = V4{} + shift, worst = V4{} + best.back().first;
        V4 a, b;
        std::memcpy(&a, row + v, sizeof a);
        std::memcpy(&b, row + v + 4, sizeof b);
        const M4 beats = (s + (a - sh) > worst) | (s + (b - sh) > worst);
        if ((beats[0] | beats[1] | beats[2] | beats[3]) == 0) {
          v += 8;
          continue;
        }
      }
      const int64_t stop = std::min(end, v + 8);
      for (; v < stop; ++v) {
        const Candidate c{score[k] + (row[v] - shift), k * V + v};
        if (static_cast<int64_t>(best.size()) == n && !better(c, best.back())) continue;
        // Insert in order (n is small: 2 * beam).
        auto at = std::upper_bound(best.begin(), best.end(), c, better);
        best.insert(at, c);
        if (static_cast<int64_t>(best.size()) > n) best.pop_back();
      }
    }
  }
}

// One step of one source: x (rows, V) the Stepper's scores, its R rows at `first` (R = 1 at the
// first step, K after), and `best` its best_continuations. Moves finished hypotheses to s.finished
// and the best K live continuations into s; `parents` gets their Stepper rows and `tokens` their
// last tokens. Returns false once the source is done (K finished, or nothing left alive). At the
// length limit every live hypothesis ends (with the score of <eos> there), so that no output is
// longer than the limit, as with greedy decoding.
bool advance(Live& s, const double* x, int64_t first, int64_t R, int64_t K, int64_t V, int64_t t,
             double alpha, const std::vector<Candidate>& best, std::vector<int64_t>& parents,
             std::vector<int64_t>& tokens) {
  const bool last = t == s.limit;
  std::vector<int64_t> parent, next_tok;
  std::vector<double> next_score;
  std::vector<std::vector<int64_t>> next_hyps;
  for (size_t i = 0; i < best.size() && static_cast<int64_t>(parent.size()) < K; ++i) {
    const int64_t k = best[i].second / V, v = best[i].second % V;
    if (v == kEos) {
      const double len = static_cast<double>(s.hyps[k].size() + 1);
      // Cut: <eos> was not the most likely token there (argmax of log p, as greedy's of x).
      bool cut = false;
      if (last) {
        const double* row = x + (first + k) * V;
        const double shift = log_sum_exp(row, V);
        std::vector<double> lp(row, row + V);
        for (double& l : lp) l -= shift;
        cut = argmax(lp.data(), V) != kEos;
      }
      s.finished.push_back({s.hyps[k], best[i].first / std::pow(len, alpha), cut});
      continue;
    }
    parent.push_back(k);
    next_tok.push_back(v);
    next_score.push_back(best[i].first);
    next_hyps.push_back(s.hyps[k]);
    next_hyps.back().push_back(v);
  }
  if (static_cast<int64_t>(s.finished.size()) >= K || parent.empty()) return false;
  // Pad the live set back to K rows with dead hypotheses. A dead row's scores are never read,
  // so it keeps the history it has (no cache row to copy), or the first row's after the first
  // step (one row per source then).
  while (static_cast<int64_t>(parent.size()) < K) {
    parent.push_back(std::min(static_cast<int64_t>(parent.size()), R - 1));
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

double log_sum_exp(const double* x, int64_t V) {
  constexpr int64_t kLanes = 8;
  double lane[kLanes];
  std::fill(lane, lane + kLanes, kNegInf);
  int64_t v = 0;
  for (; v + kLanes <= V; v += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lane[l] = std::max(lane[l], x[v + l]);
  double m = kNegInf;
  for (double l : lane) m = std::max(m, l);
  for (; v < V; ++v) m = std::max(m, x[v]);
  if (m == kNegInf) return kNegInf;
  std::fill(lane, lane + kLanes, 0.0);
  for (v = 0; v + kLanes <= V; v += kLanes)
    for (int64_t l = 0; l < kLanes; ++l) lane[l] += fast_exp(x[v + l] - m);
  double sum = 0;
  for (; v < V; ++v) sum += fast_exp(x[v] - m);
  for (double l : lane) sum += l;
  return m + std::log(sum);
}

std::vector<std::vector<Hypothesis>> beam_search(const Models& models, const Source& src,
                                                 const DecodeOptions& opt, DecodeCuts* cuts) {
  if (opt.beam < 1) throw std::invalid_argument("beam size must be at least 1");
  NoGradGuard ng;
  const int64_t B = src.batch(), K = opt.beam;
  std::vector<std::vector<Hypothesis>> results(B);
  if (B == 0) return results;
  // One row per source for the first step (its only live hypothesis is <bos>), K rows after;
  // each source encoded once.
  Stepper step(models, src);
  const int64_t V = step.vocab();
  const std::vector<int64_t> limit =
      decode_limits(opt, src, models[0]->config().pad_id, step.table_len());
  std::vector<Live> live;
  for (int64_t b = 0; b < B; ++b) {
    Live s{b, limit[b], std::vector<std::vector<int64_t>>(K), std::vector<double>(K, kNegInf), {}};
    s.score[0] = 0.0;
    live.push_back(std::move(s));
  }
  std::vector<int64_t> tok(B, kBos);
  for (int64_t t = 0; !live.empty(); ++t) {
    const int64_t R = t == 0 ? 1 : K;  // Stepper rows per source
    // In float64, so that ranking matches greedy argmax on the raw logits.
    const Tensor scores = step.next(tok);  // (rows, V)
    const double* x = scores.data<double>();
    // Each source's 2K best continuations, the sources in parallel (each writes its own).
    const int64_t n = static_cast<int64_t>(live.size());
    std::vector<std::vector<Candidate>> best(n);
    parallel_for(n, row_grain(R * V), [&](int64_t b, int64_t e) {
      for (int64_t slot = b; slot < e; ++slot)
        best_continuations(x + slot * R * V, live[slot].score.data(), R, V, t == live[slot].limit,
                           2 * K, best[slot]);
    });
    std::vector<int64_t> parents, tokens;
    std::vector<Live> still;
    for (int64_t slot = 0; slot < n; ++slot) {
      Live& s = live[slot];
      if (advance(s, x, slot * R, R, K, V, t, opt.len_alpha, best[slot], parents, tokens)) {
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
    step.keep(parents, left || t == 0);  // after the first step, rows change sources
    tok = std::move(tokens);
  }
  if (cuts)
    for (int64_t b = 0; b < B; ++b) cuts->add(!results[b].empty() && results[b][0].cut, limit[b]);
  return results;
}

}  // namespace sg
