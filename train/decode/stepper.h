// One decoding step of one model or of an ensemble, on the cached incremental decoder, for the
// decoders of decode.h: the models' states side by side, next-token scores per row, and the
// reordering of rows that beam search needs (hypotheses move between rows; finished sources leave
// the batch).
#pragma once

#include <vector>

#include "layers/transformer.h"

namespace sg {

// Rows `rows` (indices, repeats allowed) of x along dim 0, in that order: (N, ...) ->
// (rows.size(), ...). Plain copies, no graph; a source keeps its kind (ids or images).
Tensor take_rows(const Tensor& x, const std::vector<int64_t>& rows);
IntTensor take_rows(const IntTensor& x, const std::vector<int64_t>& rows);
Source take_rows(const Source& src, const std::vector<int64_t>& rows);

// The models that decode together: one, or an ensemble with the same target vocabulary.
using Models = std::vector<const Seq2SeqTransformer*>;

// Keeps the rows `rows` of a decoder layer's cache (indices into its current B rows, repeats
// allowed), in that order, so that row i continues the history of row rows[i]: beam search's
// hypotheses moving between rows. Nothing of the self-attention cache is copied: each position
// stays in the row that wrote it, and row i takes row rows[i]'s entries of self_rows, which say
// where (the buffer only grows, keeping its rows, when there are more rows than it holds). With
// `cross`, also the rows' cross-attention keys and values (needed when the rows' sources change,
// not when rows move among the hypotheses of one source, whose cross keys and values are equal):
// nothing is copied, the rows that read them (cross_kv.rows) change, so that one source's
// hypotheses share one copy.
void keep_rows(DecoderCache& cache, const std::vector<int64_t>& rows, bool cross);

class Stepper {
 public:
  // src: (B, S) padded ids, each row its source + <eos>, or (B, H, W) images for image models.
  // Encodes it with every model, and decodes `copies` rows per source (rows b * copies ..
  // b * copies + copies - 1), which share its one encoding: beam search's hypotheses.
  Stepper(const Models& models, const Source& src, int64_t copies = 1);

  int64_t rows() const { return rows_; }
  int64_t vocab() const { return vocab_; }
  // The shortest positional table of the models: decode_limit's cap.
  int64_t table_len() const { return table_len_; }

  // Feeds one token per row; returns the next position's scores (rows, V) in float64. One model:
  // its logits as they are (so that an ensemble of one decodes exactly as the model alone). An
  // ensemble of N: log((1/N) sum_i softmax(logits_i)), the log of the mean probabilities.
  Tensor next(const std::vector<int64_t>& tokens);

  // Keeps the rows `rows` (indices into the current rows, repeats allowed), in that order, of
  // every model's self-attention caches; with `memory`, also which source's encoder memory, mask
  // and cross-attention keys and values each row reads (not needed when rows only move among the
  // hypotheses of one source, whose memory rows are equal). The memory keeps one row per source.
  void keep(const std::vector<int64_t>& rows, bool memory);

 private:
  std::vector<const Seq2SeqTransformer*> models_;
  std::vector<DecodeState> states_;
  int64_t rows_ = 0, vocab_ = 0, table_len_ = 0;
};

}  // namespace sg
