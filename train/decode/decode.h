// Greedy decoding, sampling and batched beam search on the cached incremental decoder (eval mode,
// no graph), of one model or an ensemble (train/decode/stepper.h), and the length limit they all
// obey.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "datasets/example.h"
#include "layers/transformer.h"
#include "train/decode/stepper.h"

namespace sg {

constexpr int64_t kBos = 1, kEos = 2;

struct DecodeOptions {
  int64_t beam = 1;  // 1: greedy
  // > 0: the most target tokens generated (without <eos>), --decode-max-len; 0: the default
  // limit, from `lengths` and each source's length (decode_limit).
  int64_t max_len = 0;
  LengthStats lengths;     // of the model's training data (LoadedModel::train_lengths)
  double len_alpha = 1.0;  // --length-penalty: beam scores are log p / length^alpha (with <eos>)
  int64_t n_best = 1;      // hypotheses beam_search returns per source (at most beam)
  // Sampling (--sample): each token drawn from softmax(scores / temperature), restricted to the
  // top_k most likely tokens (0: all), then to the fewest most likely whose probabilities sum to
  // at least top_p. Row b of a call draws from its own generator, seeded from (seed,
  // first_row + b): an output depends on the seed and its row's index in the whole input only.
  bool sample = false;
  int64_t top_k = 0;
  double top_p = 1.0, temperature = 1.0;
  uint64_t seed = 0;
  int64_t first_row = 0;
};

// One finished beam hypothesis: ids without <bos>/<eos>, score log p / length^alpha.
struct Hypothesis {
  std::vector<int64_t> ids;
  double score = 0;
  bool cut = false;  // ended by the length limit where <eos> was not its most likely next token
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
// decode_limit of every row of a (B, S) source, counting its tokens other than padding and <eos>;
// of every image of a (B, H, W) source with src_len 0 (an image has no tokens: the longest
// training target decides).
std::vector<int64_t> decode_limits(const DecodeOptions& opt, const Source& src, int64_t pad,
                                   int64_t table_len);

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

// src: (B, S) padded ids, each row its source + <eos>, or (B, H, W) images for an image model.
// Returns, per row, the generated target ids without <bos>/<eos>, at most decode_limit(row) of
// them. `cuts`, if given, gets every row.
std::vector<std::vector<int64_t>> greedy_decode(const Seq2SeqTransformer& model, const Source& src,
                                                const DecodeOptions& opt,
                                                DecodeCuts* cuts = nullptr);
// beam_search's best hypothesis of each source. A row is cut when its best hypothesis ended at
// the limit where <eos> was not that hypothesis's most likely next token.
std::vector<std::vector<int64_t>> beam_decode(const Seq2SeqTransformer& model, const Source& src,
                                              const DecodeOptions& opt, DecodeCuts* cuts = nullptr);
// Greedy for beam 1, else beam search.
std::vector<std::vector<int64_t>> decode(const Seq2SeqTransformer& model, const Source& src,
                                         const DecodeOptions& opt, DecodeCuts* cuts = nullptr);

// The same on an ensemble (Stepper::next averages the models' probabilities); one model decodes
// exactly as the overloads above.
std::vector<std::vector<int64_t>> greedy_decode(const Models& models, const Source& src,
                                                const DecodeOptions& opt,
                                                DecodeCuts* cuts = nullptr);
// Batched beam search: every source of src at once, `beam` rows each, through the KV cache. Per
// source, each step ranks the 2 * beam best continuations of its live hypotheses; those ending
// in <eos> finish (score log p / length^len_alpha), the best `beam` others stay live; a source
// leaves the batch once `beam` hypotheses have finished (at its length limit every live one
// ends). Returns per source its min(n_best, finished) best hypotheses, best first (ties: the one
// finished first). `cuts` gets each source's best hypothesis. Beam 1 is greedy decoding.
std::vector<std::vector<Hypothesis>> beam_search(const Models& models, const Source& src,
                                                 const DecodeOptions& opt,
                                                 DecodeCuts* cuts = nullptr);
// Beam search's building block, exposed for tests: log sum_v e^(x_v) of a row x (V) of scores,
// the shift of log_softmax (log p_v = x_v - shift), as m + log sum_v e^(x_v - m) with m the row's
// maximum (e^ by autograd/fast_exp.h), summed in 8 interleaved partial sums (-inf for a row of
// -inf).
double log_sum_exp(const double* x, int64_t V);

// The loop greedy decoding and sampling share: every row of src at once, one token per row per
// step, pick(row, scores, V) choosing a live row's next token from its scores (V). A row ends at
// <eos> or at its decode_limit, and is cut when it ends there without <eos> while <eos> was not
// its most likely token. A finished row stays in the batch, feeding its last token, until every
// row has finished.
using PickToken = std::function<int64_t(int64_t row, const double* scores, int64_t V)>;
std::vector<std::vector<int64_t>> decode_token_by_token(const Models& models, const Source& src,
                                                        const DecodeOptions& opt,
                                                        const PickToken& pick,
                                                        DecodeCuts* cuts = nullptr);
// Sampling (opt.sample); a row is cut when it reached its limit without drawing <eos> while
// <eos> was not its most likely token there.
std::vector<std::vector<int64_t>> sample_decode(const Models& models, const Source& src,
                                                const DecodeOptions& opt,
                                                DecodeCuts* cuts = nullptr);
// Sampling with opt.sample, greedy for beam 1, else beam search's best hypotheses.
std::vector<std::vector<int64_t>> decode(const Models& models, const Source& src,
                                         const DecodeOptions& opt, DecodeCuts* cuts = nullptr);

}  // namespace sg
