// One decoder layer, as torch.nn.TransformerDecoderLayer (relu, batch_first):
//   post-LN: y = norm1(y + drop1(self_attn(y, causal+pad)))
//            y = norm2(y + drop2(multihead_attn(y, memory, memory pad)))   (cross-attention)
//            y = norm3(y + drop3(ff(y)))
//   pre-LN:  the same blocks with y = y + drop_i(block(norm_i(y))) (layers/sublayer.h).
// step() runs one position with cached keys and values: the self-attention keys/values of every
// earlier position, and the cross-attention keys/values of the memory (computed once).
#pragma once

#include <functional>

#include "layers/encoder_layer.h"

namespace sg {

struct DecoderCache {
  KeyValue self_kv;   // (N, H, t, Dh), grows by one position per step: a view of self_buf
  KeyValue self_buf;  // (N, H, capacity, Dh), doubled when full, so a step copies one position
  KeyValue cross_kv;  // (B, H, S, Dh), projected from the memory once
  // Rows reordered without copying (beam search, train/decode/stepper.h keep_rows): (B, t) row-
  // major, decoding row i's position j is in row self_rows[i * t + j] of self_kv, N >= B rows,
  // and each step writes row i's new position in row i. Empty: row i is decoding row i (N = B).
  // When the buffer is full and N > B, step() first moves the B histories into B rows.
  std::vector<int64_t> self_rows;
};

// Per-head attention probabilities of one decoder layer (filled when requested).
struct DecoderWeights {
  Tensor self_attn;   // (B, H, T, T)
  Tensor cross_attn;  // (B, H, T, S)
};

class DecoderLayer : public Module {
 public:
  DecoderLayer(const LayerConfig& cfg, Generator* dropout_gen, Generator& init,
               DType dtype = DType::f32);
  // y: (B, T, C), memory: (B, S, C); self_mask broadcastable to (B, H, T, T), mem_mask to
  // (B, H, T, S).
  Tensor forward(const Tensor& y, const Tensor& memory, const AttentionMask& self_mask,
                 const IntTensor* mem_mask, DecoderWeights* weights = nullptr) const;

  void start_cache(DecoderCache& cache, const Tensor& memory) const;
  // y_t: (B, 1, C), the input at the next position; appends its keys and values to the cache.
  // Decoding only: it runs without recording (the cache is written in place).
  Tensor step(const Tensor& y_t, DecoderCache& cache, const IntTensor* mem_mask,
              DecoderWeights* weights = nullptr) const;

  MultiHeadAttention self_attn, multihead_attn;
  FeedForward ff;
  LayerNorm norm1, norm2, norm3;

 private:
  // The self-attention block: (B, T, C) -> (B, T, C), whole-sequence (forward) or cached (step).
  using SelfBlock = std::function<Tensor(const Tensor&)>;
  // The three blocks around self_block, cross-attention and the feed-forward; cross-attention
  // reads cross_kv when given (cached), else projects cross_memory.
  Tensor blocks(const Tensor& y, const SelfBlock& self_block, const Tensor& cross_memory,
                const KeyValue* cross_kv, const IntTensor* mem_mask, DecoderWeights* w) const;

  bool norm_first_;
  Dropout drop1_, drop2_, drop3_;
};

}  // namespace sg
