// One encoder layer, as torch.nn.TransformerEncoderLayer (relu, batch_first):
//   post-LN: x = norm1(x + drop1(self_attn(x))); x = norm2(x + drop2(ff(x)))
//   pre-LN:  x = x + drop1(self_attn(norm1(x))); x = x + drop2(ff(norm2(x)))
// (layers/sublayer.h arranges each block's residual connection and norm.)
#pragma once

#include "layers/attention.h"
#include "layers/feed_forward.h"
#include "layers/layer_norm.h"

namespace sg {

struct LayerConfig {
  int64_t d_model = 128, heads = 4, ff = 512;
  double dropout = 0.1;
  bool norm_first = false;
};

class EncoderLayer : public Module {
 public:
  EncoderLayer(const LayerConfig& cfg, Generator* dropout_gen, Generator& init,
               DType dtype = DType::f32);
  // x: (B, S, C); mask broadcastable to (B, H, S, S) (the source key padding).
  Tensor forward(const Tensor& x, const IntTensor* mask, Tensor* attn_weights = nullptr) const;

  MultiHeadAttention self_attn;
  FeedForward ff;
  LayerNorm norm1, norm2;

 private:
  bool norm_first_;
  Dropout drop1_, drop2_;
};

}  // namespace sg
