// The residual connection around each block of an encoder or a decoder layer (self-attention,
// cross-attention, feed-forward), arranged as torch.nn.TransformerEncoderLayer and
// TransformerDecoderLayer arrange it:
//   post-LN (norm_first false):  x = norm(x + drop(block(x)))
//   pre-LN  (norm_first true):   x = x + drop(block(norm(x)))
// x: (B, T, C); block maps (B, T, C) to (B, T, C).
#pragma once

#include "autograd/ops.h"
#include "layers/dropout.h"
#include "layers/layer_norm.h"

namespace sg {

template <class Block>
Tensor sublayer(const Tensor& x, bool norm_first, const LayerNorm& norm, const Dropout& drop,
                Block&& block) {
  if (norm_first) return add(x, drop.forward(block(norm.forward(x))));
  return norm.forward(add(x, drop.forward(block(x))));
}

}  // namespace sg
