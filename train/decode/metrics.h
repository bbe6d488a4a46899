// Evaluation metrics over token ids: token accuracy, exact match and corpus BLEU.
//
// Hypotheses and references are id sequences of real tokens, without <bos>/<eos> (cut a decoded
// sequence at its first <eos>). BLEU is sacreBLEU's corpus_bleu on already-tokenized text
// (tokenize='none', so each id is one word) with its defaults: n-grams up to 4, clipped counts
// (against the maximum count over the references of a segment), the closest reference length
// (the shorter one on ties), brevity penalty exp(1 - r/c) when c < r, smooth_method='exp'
// (the k-th zero n-gram precision becomes 100 / (2^k * total_n)), no effective order (an order
// with no hypothesis n-grams at all gives 0), and 0 when no n-gram matches at all. Score 0..100.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace sg {

using TokenSeqs = std::vector<std::vector<int64_t>>;

struct TokenCounts {
  int64_t correct = 0, total = 0;
  double rate() const { return total ? static_cast<double>(correct) / total : 0.0; }
  TokenCounts& operator+=(const TokenCounts& o) {
    correct += o.correct, total += o.total;
    return *this;
  }
};

// Teacher-forced accuracy: argmax over the last dim of logits (B, T, V) (first maximum on ties)
// against tgt_out (B, T), counted over the positions where tgt_out != pad_id.
TokenCounts argmax_token_counts(const Tensor& logits, const IntTensor& tgt_out, int64_t pad_id = 0);

// Decoded accuracy: compares hyp + <eos> with ref + <eos> position by position over the
// len(ref) + 1 positions of the reference (the same positions teacher forcing counts).
// Throws std::invalid_argument if the lists differ in length.
TokenCounts token_counts(const TokenSeqs& hyps, const TokenSeqs& refs);
double token_accuracy(const TokenSeqs& hyps, const TokenSeqs& refs);
// Share of segments whose hypothesis equals the reference (0 for no segments).
double exact_match(const TokenSeqs& hyps, const TokenSeqs& refs);

// Sufficient statistics of corpus BLEU.
struct BleuStats {
  std::array<int64_t, 4> correct{}, total{};  // clipped matches and hypothesis n-grams, n=1..4
  int64_t sys_len = 0, ref_len = 0;
};

struct BleuScore {
  double score = 0;                    // 0..100
  std::array<double, 4> precisions{};  // percent, after smoothing
  double bp = 0;                       // brevity penalty
  BleuStats stats;
};

// sacreBLEU's BLEU.compute_bleu(correct, total, sys_len, ref_len) with smooth_method='exp'.
BleuScore bleu_from_stats(const BleuStats& stats);
// Adds one segment's statistics against its references, as sacreBLEU's
// _compute_segment_statistics: matches clipped by the largest count in any reference, the
// closest reference length. An empty reference counts (length 0). Throws std::invalid_argument
// for no reference at all.
void add_bleu_segment(BleuStats& stats, const std::vector<int64_t>& hyp,
                      const std::vector<const std::vector<int64_t>*>& refs);

// One reference per segment. Throws std::invalid_argument if the lists differ in length or a
// reference is empty.
BleuScore corpus_bleu(const TokenSeqs& hyps, const TokenSeqs& refs);
// Several references per segment: ref_streams[k][i] is the k-th reference of segment i (as
// sacrebleu.corpus_bleu(hyps, ref_streams)); empty references are ignored, but every segment
// needs at least one.
BleuScore corpus_bleu_multi(const TokenSeqs& hyps, const std::vector<TokenSeqs>& ref_streams);
// On text, split at whitespace (tokenize='none').
BleuScore corpus_bleu_text(const std::vector<std::string>& hyps,
                           const std::vector<std::vector<std::string>>& ref_streams);

}  // namespace sg
