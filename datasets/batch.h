// A padded batch (docs/data.md): encoder input = source + <eos>, decoder input = <bos> +
// target, decoder target = target + <eos>, each padded with <pad> (0) to the longest row.
// Padding masks are derived from these ids by the model (key_padding_mask(ids, 0)).
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/example.h"

namespace sg {

struct Batch {
  IntTensor src;               // (B, S), S = longest source + 1
  IntTensor tgt_in;            // (B, T), T = longest target + 1
  IntTensor tgt_out;           // (B, T)
  int64_t n_tgt_tokens = 0;    // non-pad entries of tgt_out (target tokens + one <eos> per row)
  int64_t n_src_tokens = 0;    // non-pad entries of src (source tokens + one <eos> per row)
  std::vector<int64_t> index;  // each row's example index in the dataset (empty for streams)
  int64_t size() const { return src.shape.empty() ? 0 : src.shape[0]; }
  // The <pad> entries of src and tgt_out together (the padding share is this over
  // src.numel() + tgt_out.numel()).
  int64_t pad_entries() const {
    return src.numel() + tgt_out.numel() - n_src_tokens - n_tgt_tokens;
  }
};

// Builds the batch of the given examples, in order. Throws std::invalid_argument for an empty
// list or an id that is not a real token (< 3: pad, bos and eos are added here, never given).
Batch make_batch(const std::vector<const Example*>& examples);
Batch make_batch(const std::vector<Example>& examples);

}  // namespace sg
