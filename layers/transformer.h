// The encoder-decoder Transformer of docs/model.md, equal to Seq2Seq of python/seqgrad_torch:
// embeddings (N(0, C^-1/2), scaled by sqrt(C)) plus sinusoidal positions and dropout, the layers
// of torch.nn.Transformer (batch_first, relu, post-LN or pre-LN) with a final LayerNorm after
// each stack, and a generator Linear to target-vocabulary logits. Parameter names are the
// PyTorch state_dict keys of that module. With share_embeddings the three vocabulary matrices
// are one tensor (fairseq's --share-all-embeddings); its gradient is the sum over the three
// uses, and state_dict() still names it src_embed.weight, tgt_embed.weight and
// generator.weight.
#pragma once

#include <memory>

#include "autograd/random.h"
#include "layers/decoder_layer.h"
#include "layers/embedding.h"
#include "layers/positional.h"

namespace sg {

struct ModelConfig {
  int64_t src_vocab = 14, tgt_vocab = 14;
  int64_t d_model = 128, heads = 4, enc_layers = 2, dec_layers = 2, ff = 512;
  double dropout = 0.1;
  bool norm_first = false;
  // One (vocab, C) matrix for src_embed, tgt_embed and the generator's weight (the generator
  // keeps its own bias); needs src_vocab == tgt_vocab.
  bool share_embeddings = false;
  int64_t pad_id = 0;
  int64_t max_len = 512;  // longest sequence the positional table covers
};

// State of an incremental (cached) decode: the encoder memory, its padding mask, one cache per
// decoder layer, and the number of positions decoded so far.
struct DecodeState {
  Tensor memory;       // (B, S, C)
  IntTensor mem_mask;  // (B, 1, 1, S)
  std::vector<DecoderCache> caches;
  int64_t pos = 0;
};

class Seq2SeqTransformer : public Module {
 public:
  // Parameters are drawn from a Generator seeded with `seed`; dropout masks from a second one.
  Seq2SeqTransformer(const ModelConfig& cfg, uint64_t seed, DType dtype = DType::f32);

  // src: (B, S) ids -> memory (B, S, C). enc_weights receives each layer's (B, H, S, S).
  Tensor encode(const IntTensor& src, std::vector<Tensor>* enc_weights = nullptr) const;
  // tgt_in: (B, T) ids -> logits (B, T, V_tgt).
  Tensor decode(const Tensor& memory, const IntTensor& src, const IntTensor& tgt_in,
                std::vector<DecoderWeights>* dec_weights = nullptr) const;
  Tensor forward(const IntTensor& src, const IntTensor& tgt_in) const;
  // Mean cross-entropy over non-pad target tokens (docs/data.md, the loss), shape {}.
  Tensor loss(const IntTensor& src, const IntTensor& tgt_in, const IntTensor& tgt_out,
              double label_smoothing = 0.0) const;

  // Incremental decoding: start from the source, then feed one token per sequence per step and
  // get the logits (B, V_tgt) of the next position. Equal to decode() on the whole prefix.
  DecodeState start_decoding(const IntTensor& src) const;
  Tensor decode_step(DecodeState& state, const std::vector<int64_t>& tokens,
                     std::vector<DecoderWeights>* dec_weights = nullptr) const;

  const ModelConfig& config() const { return cfg_; }
  DType dtype() const { return dtype_; }
  Generator& dropout_generator() { return dropout_gen_; }

 private:
  Tensor embed(const Embedding& e, const IntTensor& ids, int64_t start) const;

  ModelConfig cfg_;
  DType dtype_;
  Generator init_gen_, dropout_gen_;
  Embedding src_embed_, tgt_embed_;
  PositionalEncoding pos_;
  Dropout drop_;
  std::vector<std::unique_ptr<EncoderLayer>> enc_layers_;
  std::vector<std::unique_ptr<DecoderLayer>> dec_layers_;
  LayerNorm enc_norm_, dec_norm_;
  Linear output_;  // the output layer: d_model -> target vocabulary (PyTorch name "generator")
};

}  // namespace sg
