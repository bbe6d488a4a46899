// A padded batch (docs/data.md): encoder input = source + <eos>, decoder input = <bos> +
// target, decoder target = target + <eos>, each padded with <pad> (0) to the longest row.
// Padding masks are derived from these ids by the model (key_padding_mask(ids, 0)). The batch of
// an image model holds the source images as float pixels instead of source ids.
#pragma once

#include <cstdint>
#include <vector>

#include "autograd/tensor.h"
#include "datasets/example.h"
#include "datasets/image.h"

namespace sg {

struct Batch {
  IntTensor src;               // (B, S), S = longest source + 1; empty in an image batch
  Tensor images;               // (B, H, W) ink in [0, 1] of an image batch (undefined otherwise)
  IntTensor tgt_in;            // (B, T), T = longest target + 1
  IntTensor tgt_out;           // (B, T)
  int64_t n_tgt_tokens = 0;    // non-pad entries of tgt_out (target tokens + one <eos> per row)
  int64_t n_src_tokens = 0;    // non-pad entries of src (source tokens + one <eos> per row)
  std::vector<int64_t> index;  // each row's example index in the dataset (empty for streams)
  int64_t size() const { return tgt_in.shape.empty() ? 0 : tgt_in.shape[0]; }
  bool has_images() const { return images.defined(); }
  // The <pad> entries of src and tgt_out together (the padding share is this over
  // src.numel() + tgt_out.numel()); an image batch has no src, so only its targets count.
  int64_t pad_entries() const {
    return src.numel() + tgt_out.numel() - n_src_tokens - n_tgt_tokens;
  }
};

// Builds the batch of the given examples, in order. Throws std::invalid_argument for an empty
// list or an id that is not a real token (< 3: pad, bos and eos are added here, never given).
Batch make_batch(const std::vector<const Example*>& examples);
Batch make_batch(const std::vector<Example>& examples);
// The batch of image examples: images stacked into (B, H, W) float32, targets as above. Throws
// std::invalid_argument for an empty list, images of different sizes, or a target id < 3.
Batch make_image_batch(const std::vector<const ImageExample*>& examples);
Batch make_image_batch(const std::vector<ImageExample>& examples);

}  // namespace sg
