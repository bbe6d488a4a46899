#include "train/decode/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace sg {

TokenCounts argmax_token_counts(const Tensor& logits, const IntTensor& tgt_out, int64_t pad_id) {
  const int64_t V = logits.shape().back();
  if (logits.numel() != tgt_out.numel() * V)
    throw std::invalid_argument("argmax_token_counts: logits " + shape_str(logits.shape()) +
                                " do not match targets " + shape_str(tgt_out.shape));
  const Tensor x = logits.contiguous_data();
  TokenCounts c;
  dispatch(x.dtype(), [&](auto z) {
    using T = decltype(z);
    const T* p = x.data<T>();
    for (int64_t i = 0; i < tgt_out.numel(); ++i) {
      const int64_t want = tgt_out.data[i];
      if (want == pad_id) continue;
      const T* row = p + i * V;
      const int64_t best = std::max_element(row, row + V) - row;  // first maximum
      c.correct += best == want;
      ++c.total;
    }
  });
  return c;
}

static void check_same_size(size_t a, size_t b, const char* what) {
  if (a != b)
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(a) + " hypotheses but " +
                                std::to_string(b) + " references");
}

TokenCounts token_counts(const TokenSeqs& hyps, const TokenSeqs& refs) {
  check_same_size(hyps.size(), refs.size(), "token_accuracy");
  TokenCounts c;
  for (size_t i = 0; i < refs.size(); ++i) {
    const auto &h = hyps[i], &r = refs[i];
    // Position k of ref + <eos>: r[k] for k < |r|, <eos> at k = |r|; likewise for hyp, which
    // has nothing beyond its <eos>.
    for (size_t k = 0; k < r.size(); ++k) c.correct += k < h.size() && h[k] == r[k];
    c.correct += h.size() == r.size();  // the <eos> position
    c.total += static_cast<int64_t>(r.size()) + 1;
  }
  return c;
}

double token_accuracy(const TokenSeqs& hyps, const TokenSeqs& refs) {
  return token_counts(hyps, refs).rate();
}

double exact_match(const TokenSeqs& hyps, const TokenSeqs& refs) {
  check_same_size(hyps.size(), refs.size(), "exact_match");
  if (refs.empty()) return 0.0;
  int64_t n = 0;
  for (size_t i = 0; i < refs.size(); ++i) n += hyps[i] == refs[i];
  return static_cast<double>(n) / static_cast<double>(refs.size());
}

// n-gram counts of a sequence, n = 1..4.
using NgramCounts = std::map<std::vector<int64_t>, int64_t>;
static NgramCounts ngrams(const std::vector<int64_t>& s) {
  NgramCounts c;
  for (size_t n = 1; n <= 4; ++n)
    for (size_t i = 0; i + n <= s.size(); ++i)
      ++c[std::vector<int64_t>(s.begin() + static_cast<std::ptrdiff_t>(i),
                               s.begin() + static_cast<std::ptrdiff_t>(i + n))];
  return c;
}

// sacrebleu's my_log: log of a positive number, a huge negative number for 0.
static double my_log(double x) {
  return x > 0.0 ? std::log(x) : -9999999999.0;
}

BleuScore bleu_from_stats(const BleuStats& s) {
  BleuScore out;
  out.stats = s;
  if (s.sys_len < s.ref_len)
    out.bp = s.sys_len > 0
                 ? std::exp(1.0 - static_cast<double>(s.ref_len) / static_cast<double>(s.sys_len))
                 : 0.0;
  else
    out.bp = 1.0;
  if (std::all_of(s.correct.begin(), s.correct.end(), [](int64_t c) { return c == 0; }))
    return out;  // no match at all: score 0
  double smooth = 1.0;
  for (size_t n = 0; n < 4; ++n) {
    if (s.total[n] == 0) break;
    if (s.correct[n] == 0) {
      smooth *= 2.0;
      out.precisions[n] = 100.0 / (smooth * static_cast<double>(s.total[n]));
    } else {
      out.precisions[n] =
          100.0 * static_cast<double>(s.correct[n]) / static_cast<double>(s.total[n]);
    }
  }
  double sum = 0.0;
  for (const double p : out.precisions) sum += my_log(p);
  out.score = out.bp * std::exp(sum / 4.0);
  return out;
}

void add_bleu_segment(BleuStats& s, const std::vector<int64_t>& hyp,
                      const std::vector<const std::vector<int64_t>*>& refs) {
  if (refs.empty()) throw std::invalid_argument("corpus_bleu: a segment without a reference");
  const auto hyp_len = static_cast<int64_t>(hyp.size());
  NgramCounts ref_max;
  int64_t closest_diff = -1, closest_len = -1;
  for (const auto* ref : refs) {
    const auto len = static_cast<int64_t>(ref->size());
    const int64_t diff = std::abs(hyp_len - len);
    if (closest_diff == -1 || diff < closest_diff) {
      closest_diff = diff;
      closest_len = len;
    } else if (diff == closest_diff && len < closest_len) {
      closest_len = len;
    }
    for (const auto& [g, n] : ngrams(*ref)) ref_max[g] = std::max(ref_max[g], n);
  }
  s.sys_len += hyp_len;
  s.ref_len += closest_len;
  for (const auto& [g, n] : ngrams(hyp)) {
    const auto it = ref_max.find(g);
    s.correct[g.size() - 1] += std::min(n, it == ref_max.end() ? int64_t{0} : it->second);
    s.total[g.size() - 1] += n;
  }
}

BleuScore corpus_bleu_multi(const TokenSeqs& hyps, const std::vector<TokenSeqs>& ref_streams) {
  if (ref_streams.empty()) throw std::invalid_argument("corpus_bleu: no reference stream");
  for (const auto& refs : ref_streams) check_same_size(hyps.size(), refs.size(), "corpus_bleu");
  BleuStats s;
  for (size_t i = 0; i < hyps.size(); ++i) {
    std::vector<const std::vector<int64_t>*> refs;
    for (const auto& stream : ref_streams)
      if (!stream[i].empty()) refs.push_back(&stream[i]);
    if (refs.empty())
      throw std::invalid_argument("corpus_bleu: segment " + std::to_string(i) +
                                  " has no non-empty reference");
    add_bleu_segment(s, hyps[i], refs);
  }
  return bleu_from_stats(s);
}

BleuScore corpus_bleu(const TokenSeqs& hyps, const TokenSeqs& refs) {
  return corpus_bleu_multi(hyps, {refs});
}

BleuScore corpus_bleu_text(const std::vector<std::string>& hyps,
                           const std::vector<std::vector<std::string>>& ref_streams) {
  std::unordered_map<std::string, int64_t> ids;
  const auto to_ids = [&](const std::string& line) {
    std::istringstream in(line);
    std::vector<int64_t> out;
    for (std::string w; in >> w;) out.push_back(ids.emplace(w, ids.size()).first->second);
    return out;
  };
  TokenSeqs h;
  for (const auto& line : hyps) h.push_back(to_ids(line));
  std::vector<TokenSeqs> r(ref_streams.size());
  for (size_t k = 0; k < ref_streams.size(); ++k)
    for (const auto& line : ref_streams[k]) r[k].push_back(to_ids(line));
  return corpus_bleu_multi(h, r);
}

}  // namespace sg
