// Greedy and beam-search decoding on the cached incremental decoder (eval mode, no graph), and
// the length limit both obey.
#pragma once

#include <string>
#include <vector>

#include "datasets/example.h"
#include "layers/transformer.h"

namespace sg {

constexpr int64_t kBos = 1, kEos = 2;

struct DecodeOptions {
  int64_t beam = 1;  // 1: greedy
  // > 0: the most target tokens generated (without <eos>), --decode-max-len; 0: the default
  // limit, from `lengths` and each source's length (decode_limit).
  int64_t max_len = 0;
  LengthStats lengths;     // of the model's training data (LoadedModel::train_lengths)
  double len_alpha = 1.0;  // beam scores are log p / length^alpha (length counts <eos>)
};

// The most target tokens (without <eos>) decoding generates for a source of src_len tokens
// (without <eos>), at most table_len - 1 so that <bos> + the output fit the model's positional
// table of table_len positions:
// - opt.max_len > 0: that (an explicit limit wins, as in fairseq and Marian);
// - else, with L the longest training target and r the largest training target/source length
//   ratio: need = max(L, r * src_len), and the limit is 1.5 * need + 10 (rounded up), so that
//   neither a target as long as the longest seen nor one as much longer than its source as any
//   seen is cut, with room for outputs a little longer still;
// - with unknown lengths (options built without them): 2 * src_len + 12, the rule before
//   checkpoints recorded the lengths.
// Greedy and beam search both call this, once per source row.
int64_t decode_limit(const DecodeOptions& opt, int64_t src_len, int64_t table_len);

// Outputs that stopped at their length limit where the model had not chosen <eos>. Decoding
// appends one entry per row, so one DecodeCuts can follow the batches of a whole data set.
struct DecodeCuts {
  int64_t count = 0;                     // rows cut
  int64_t min_limit = 0, max_limit = 0;  // the limits those rows reached
  std::vector<bool> cut;                 // per row decoded, in order
  void add(bool row_cut, int64_t limit);
};

// "N outputs reached --decode-max-len M without <eos>" (with what M was and how to raise it),
// or "" when nothing was cut.
std::string cut_warning(const DecodeCuts& cuts, const DecodeOptions& opt);

// src: (B, S) padded ids, each row its source + <eos>. Returns, per row, the generated target ids
// without <bos>/<eos>, at most decode_limit(row) of them. `cuts`, if given, gets every row.
std::vector<std::vector<int64_t>> greedy_decode(const Seq2SeqTransformer& model,
                                                const IntTensor& src, const DecodeOptions& opt,
                                                DecodeCuts* cuts = nullptr);
// One source row at a time, `beam` hypotheses each, length-normalized scores; stops when `beam`
// hypotheses have ended. A row is cut when its best hypothesis ended at the limit where <eos> was
// not that hypothesis's most likely next token.
std::vector<std::vector<int64_t>> beam_decode(const Seq2SeqTransformer& model, const IntTensor& src,
                                              const DecodeOptions& opt, DecodeCuts* cuts = nullptr);
// Greedy for beam 1, else beam search.
std::vector<std::vector<int64_t>> decode(const Seq2SeqTransformer& model, const IntTensor& src,
                                         const DecodeOptions& opt, DecodeCuts* cuts = nullptr);

}  // namespace sg
