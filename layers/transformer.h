// The encoder-decoder Transformer of docs/model.md, equal to Seq2Seq of python/seqgrad_torch:
// embeddings (N(0, C^-1/2), scaled by sqrt(C)) plus sinusoidal positions and dropout, the layers
// of torch.nn.Transformer (batch_first, relu, post-LN or pre-LN) with a final LayerNorm after
// each stack, and a generator Linear to target-vocabulary logits. Parameter names are the
// PyTorch state_dict keys of that module. With share_embeddings the three vocabulary matrices
// are one tensor (fairseq's --share-all-embeddings); its gradient is the sum over the three
// uses, and state_dict() still names it src_embed.weight, tgt_embed.weight and
// generator.weight.
//
// An image model (ModelConfig::patch > 0) has the same network with another front-end for the
// encoder: the image is read as a sequence of patches, a linear patch embedding (`patch_embed`)
// plus a 2-D sinusoidal positional encoding, then dropout, in place of src_embed and the 1-D
// positions; the decoder is the text model's. Its encoder input has no padding (every patch is
// read), so cross-attention has no memory mask.
#pragma once

#include <memory>

#include "autograd/random.h"
#include "layers/decoder_layer.h"
#include "layers/embedding.h"
#include "layers/patch_embedding.h"
#include "layers/positional.h"
#include "layers/positional_2d.h"

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
  // An image model: patch > 0, images of image_height x image_width pixels (multiples of
  // patch); src_vocab is then unused.
  int64_t patch = 0, image_height = 0, image_width = 0;
  bool reads_images() const { return patch > 0; }
};

// What the encoder reads: token ids (B, S) padded with pad_id for a text model, or images
// (B, H, W) of ink in [0, 1] for an image model. Token ids convert implicitly, so text callers
// pass their ids as they are.
struct Source {
  IntTensor ids;
  Tensor images;
  Source(IntTensor token_ids) : ids(std::move(token_ids)) {}
  explicit Source(Tensor pixels) : images(std::move(pixels)) {}
  bool is_image() const { return images.defined(); }
  int64_t batch() const { return is_image() ? images.size(0) : ids.shape.at(0); }
};

// State of an incremental (cached) decode: the encoder memory, its padding mask, one cache per
// decoder layer, and the number of positions decoded so far. Memory, mask and the caches' cross
// keys and values have one row per source; decoding rows read them through the caches'
// cross_kv.rows when those are set (beam search: several hypotheses per source).
struct DecodeState {
  Tensor memory;       // (B, S, C)
  IntTensor mem_mask;  // (B, 1, 1, S); empty for an image model (no padding)
  std::vector<DecoderCache> caches;
  int64_t pos = 0;
  // The decoding rows: memory's B, or as many as cross_kv.rows holds.
  int64_t rows() const {
    return caches.empty() || caches[0].cross_kv.rows.empty()
               ? memory.size(0)
               : static_cast<int64_t>(caches[0].cross_kv.rows.size());
  }
};

class Seq2SeqTransformer : public Module {
 public:
  // Parameters are drawn from a Generator seeded with `seed`; dropout masks from a second one.
  Seq2SeqTransformer(const ModelConfig& cfg, uint64_t seed, DType dtype = DType::f32);

  // src: (B, S) ids -> memory (B, S, C), or images (B, H, W) -> memory (B, H/P * W/P, C).
  // enc_weights receives each layer's (B, H, S, S). A source of the wrong kind for the model
  // (ids for an image model, images for a text model, images of another size) throws
  // std::invalid_argument.
  Tensor encode(const Source& src, std::vector<Tensor>* enc_weights = nullptr) const;
  // tgt_in: (B, T) ids -> logits (B, T, V_tgt).
  Tensor decode(const Tensor& memory, const Source& src, const IntTensor& tgt_in,
                std::vector<DecoderWeights>* dec_weights = nullptr) const;
  Tensor forward(const Source& src, const IntTensor& tgt_in) const;
  // Mean cross-entropy over non-pad target tokens (docs/data.md, the loss), shape {}.
  Tensor loss(const Source& src, const IntTensor& tgt_in, const IntTensor& tgt_out,
              double label_smoothing = 0.0) const;
  // The key padding mask (B, 1, 1, S) of the source ids; empty for images (nothing is padded).
  IntTensor memory_mask(const Source& src) const;

  // Incremental decoding: start from the source, then feed one token per sequence per step and
  // get the logits (B, V_tgt) of the next position. Equal to decode() on the whole prefix.
  DecodeState start_decoding(const Source& src) const;
  Tensor decode_step(DecodeState& state, const std::vector<int64_t>& tokens,
                     std::vector<DecoderWeights>* dec_weights = nullptr) const;

  const ModelConfig& config() const { return cfg_; }
  DType dtype() const { return dtype_; }
  Generator& dropout_generator() { return dropout_gen_; }

 private:
  Tensor embed(const Embedding& e, const IntTensor& ids, int64_t start) const;
  // The encoder's input (B, S, C): embedded tokens or patches, positions, dropout.
  Tensor embed_source(const Source& src) const;

  ModelConfig cfg_;
  DType dtype_;
  Generator init_gen_, dropout_gen_;
  std::unique_ptr<Embedding> src_embed_;         // a text model's
  std::unique_ptr<PatchEmbedding> patch_embed_;  // an image model's
  Embedding tgt_embed_;
  PositionalEncoding pos_;
  std::unique_ptr<PositionalEncoding2D> pos_2d_;  // an image model's
  Dropout drop_;
  std::vector<std::unique_ptr<EncoderLayer>> enc_layers_;
  std::vector<std::unique_ptr<DecoderLayer>> dec_layers_;
  LayerNorm enc_norm_, dec_norm_;
  Linear output_;  // the output layer: d_model -> target vocabulary (PyTorch name "generator")
};

}  // namespace sg
