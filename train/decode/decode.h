// Greedy and beam-search decoding on the cached incremental decoder (eval mode, no graph).
#pragma once

#include <vector>

#include "layers/transformer.h"

namespace sg {

constexpr int64_t kBos = 1, kEos = 2;

struct DecodeOptions {
  int64_t beam = 1;        // 1: greedy
  int64_t max_len = 64;    // most target tokens generated (without <eos>)
  double len_alpha = 1.0;  // beam scores are log p / length^alpha (length counts <eos>)
};

// src: (B, S) padded ids. Returns, per row, the generated target ids without <bos>/<eos>.
std::vector<std::vector<int64_t>> greedy_decode(const Seq2SeqTransformer& model,
                                                const IntTensor& src, int64_t max_len);
// One source row at a time, `beam` hypotheses each, length-normalized scores; stops when `beam`
// hypotheses have ended. Outputs have at most max_len tokens.
std::vector<std::vector<int64_t>> beam_decode(const Seq2SeqTransformer& model, const IntTensor& src,
                                              const DecodeOptions& opt);
// Greedy for beam 1, else beam search; max_len is capped to what the model's positional table
// allows (its max_len - 1).
std::vector<std::vector<int64_t>> decode(const Seq2SeqTransformer& model, const IntTensor& src,
                                         const DecodeOptions& opt);

}  // namespace sg
