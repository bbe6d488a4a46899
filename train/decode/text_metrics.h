// BLEU and chrF on detokenized text, as sacreBLEU 2.x computes them with its defaults
// (docs/cli.md, eval): the scores `sacrebleu REF -i HYP -m bleu chrf` prints for the same lines.
//
// BLEU: each line has its trailing whitespace stripped and is tokenized with 13a (mteval-v13a,
// below), then corpus BLEU over the words (metrics.h: n-grams up to 4, exp smoothing, closest
// reference length, brevity penalty).
// chrF (chrF2): whitespace removed, character n-grams of orders 1..6 (code points), no word
// n-grams, beta 2. Per order the corpus sums the hypothesis, reference and matched n-gram
// counts (a hypothesis's count is taken as 0 for an order its reference has no n-gram of);
// precision and recall are averaged over the orders where both counts are non-zero (the
// "effective order"), and chrF = 100 (1 + b^2) P R / (b^2 P + R).
//
// Lines are UTF-8; "whitespace" is Python's str.isspace() set (ASCII \t\n\v\f\r, space,
// U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000). tests/reference/make_sacrebleu_values.py has sacreBLEU compute the figures the tests
// compare with.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "train/decode/metrics.h"

namespace sg {

// sacreBLEU's Tokenizer13a: removes "<skipped>" and "-\n", turns "\n" into a space, unescapes
// &quot; &amp; &lt; &gt;, puts spaces around the ASCII punctuation {|}~[\]^_`!"#$%&()*+:;<=>?@/,
// splits a period or comma from a neighbour that is not a digit and a dash from a digit before
// it, and collapses whitespace to single spaces (none at the ends).
std::string tokenize_13a(std::string_view line);

// Corpus BLEU (0..100) of hypotheses against one reference each (same count, else
// std::invalid_argument). An empty list scores 0.
BleuScore sacrebleu_bleu(const std::vector<std::string>& hyps,
                         const std::vector<std::string>& refs);

constexpr int kChrfOrder = 6;

struct ChrfStats {
  std::array<int64_t, kChrfOrder> hyp{}, ref{}, match{};  // per order 1..6
};

struct ChrfScore {
  double score = 0;  // 0..100
  ChrfStats stats;
};

// sacreBLEU's CHRF.compute_f_score of summed statistics (beta 2, effective order).
double chrf_from_stats(const ChrfStats& stats);

// Corpus chrF (0..100) of hypotheses against one reference each (same count, else
// std::invalid_argument). An empty list scores 0.
ChrfScore sacrebleu_chrf(const std::vector<std::string>& hyps,
                         const std::vector<std::string>& refs);

}  // namespace sg
