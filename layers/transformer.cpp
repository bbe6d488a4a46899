#include "layers/transformer.h"

#include <cmath>
#include <stdexcept>

#include "autograd/engine.h"
#include "autograd/ops.h"

namespace sg {

static ModelConfig checked(const ModelConfig& c) {
  auto positive = [](int64_t v, const char* what) {
    if (v <= 0) throw std::invalid_argument(std::string(what) + " must be positive");
  };
  positive(c.src_vocab, "source vocabulary size");
  positive(c.tgt_vocab, "target vocabulary size");
  positive(c.d_model, "d_model");
  positive(c.heads, "heads");
  positive(c.ff, "ff");
  positive(c.max_len, "max_len");
  if (c.enc_layers < 0 || c.dec_layers < 0)
    throw std::invalid_argument("layer counts must be >= 0");
  if (c.share_embeddings && c.src_vocab != c.tgt_vocab)
    throw std::invalid_argument("shared embeddings need one vocabulary: the source has " +
                                std::to_string(c.src_vocab) + " tokens, the target " +
                                std::to_string(c.tgt_vocab));
  if (c.d_model % c.heads != 0)
    throw std::invalid_argument("heads (" + std::to_string(c.heads) + ") must divide d_model (" +
                                std::to_string(c.d_model) + ")");
  if (c.reads_images()) {
    if (c.share_embeddings)
      throw std::invalid_argument("shared embeddings need a text source, not images");
    positive(c.image_height, "image height");
    positive(c.image_width, "image width");
    if (c.image_height % c.patch != 0 || c.image_width % c.patch != 0)
      throw std::invalid_argument("the patch size " + std::to_string(c.patch) +
                                  " must divide the image size " + std::to_string(c.image_width) +
                                  " x " + std::to_string(c.image_height));
    if (c.d_model < 2) throw std::invalid_argument("an image model needs d_model >= 2");
  }
  return c;
}

Seq2SeqTransformer::Seq2SeqTransformer(const ModelConfig& cfg, uint64_t seed, DType dtype)
    : cfg_(checked(cfg)),
      dtype_(dtype),
      init_gen_(seed),
      dropout_gen_(seed ^ 0x5DEECE66DULL),
      src_embed_(cfg_.reads_images()
                     ? nullptr
                     : std::make_unique<Embedding>(cfg.src_vocab, cfg.d_model, init_gen_,
                                                   std::pow(cfg.d_model, -0.5), dtype)),
      patch_embed_(cfg_.reads_images()
                       ? std::make_unique<PatchEmbedding>(cfg.patch, cfg.d_model, init_gen_, dtype)
                       : nullptr),
      tgt_embed_(cfg.tgt_vocab, cfg.d_model, init_gen_, std::pow(cfg.d_model, -0.5), dtype),
      pos_(cfg.d_model, dtype, cfg.max_len),
      pos_2d_(cfg_.reads_images() ? std::make_unique<PositionalEncoding2D>(
                                        cfg.d_model, cfg.image_height / cfg.patch,
                                        cfg.image_width / cfg.patch, dtype)
                                  : nullptr),
      drop_(cfg.dropout, &dropout_gen_),
      enc_norm_(cfg.d_model, dtype),
      dec_norm_(cfg.d_model, dtype),
      output_(cfg.d_model, cfg.tgt_vocab, init_gen_, dtype) {
  const LayerConfig lc{cfg.d_model, cfg.heads, cfg.ff, cfg.dropout, cfg.norm_first};
  if (src_embed_) register_module("src_embed", *src_embed_);
  if (patch_embed_) register_module("patch_embed", *patch_embed_);
  register_module("tgt_embed", tgt_embed_);
  register_module("", drop_);
  for (int64_t i = 0; i < cfg.enc_layers; ++i) {
    enc_layers_.push_back(std::make_unique<EncoderLayer>(lc, &dropout_gen_, init_gen_, dtype));
    register_module("transformer.encoder.layers." + std::to_string(i), *enc_layers_.back());
  }
  register_module("transformer.encoder.norm", enc_norm_);
  for (int64_t i = 0; i < cfg.dec_layers; ++i) {
    dec_layers_.push_back(std::make_unique<DecoderLayer>(lc, &dropout_gen_, init_gen_, dtype));
    register_module("transformer.decoder.layers." + std::to_string(i), *dec_layers_.back());
  }
  register_module("transformer.decoder.norm", dec_norm_);
  register_module("generator", output_);
  // nn.Transformer re-applies xavier-uniform to every matrix inside it, in_proj included.
  for (auto& [name, p] : named_parameters())
    if (name.rfind("transformer.", 0) == 0 && p.dim() > 1) init_xavier_uniform(p, init_gen_);
  // Tied after every draw, so the other parameters start as they would untied; the shared
  // matrix is src_embed's N(0, C^-1/2).
  if (cfg.share_embeddings) {
    tgt_embed_.tie_weight(src_embed_->weight);
    output_.tie_weight(src_embed_->weight);
  }
}

// Embedding * sqrt(C) + positions [start, start + T), then dropout: (B, T) -> (B, T, C).
Tensor Seq2SeqTransformer::embed(const Embedding& e, const IntTensor& ids, int64_t start) const {
  if (ids.shape.size() != 2) throw std::invalid_argument("token ids must be (B, T)");
  const Tensor x = mul(e.forward(ids), std::sqrt(static_cast<double>(cfg_.d_model)));
  return drop_.forward(pos_.forward(x, start));
}

// A mask, or null for the empty mask of an image source.
static const IntTensor* mask_or_null(const IntTensor& m) {
  return m.numel() > 0 ? &m : nullptr;
}

IntTensor Seq2SeqTransformer::memory_mask(const Source& src) const {
  return src.is_image() ? IntTensor() : key_padding_mask(src.ids, cfg_.pad_id);
}

Tensor Seq2SeqTransformer::embed_source(const Source& src) const {
  if (!cfg_.reads_images()) {
    if (src.is_image()) throw std::invalid_argument("this model reads source tokens, not images");
    return embed(*src_embed_, src.ids, 0);
  }
  if (!src.is_image()) throw std::invalid_argument("this model reads images, not source tokens");
  const Shape& s = src.images.shape();
  if (s.size() != 3 || s[1] != cfg_.image_height || s[2] != cfg_.image_width)
    throw std::invalid_argument("this model reads (B, " + std::to_string(cfg_.image_height) + ", " +
                                std::to_string(cfg_.image_width) + ") images, got " + shape_str(s));
  return drop_.forward(pos_2d_->forward(patch_embed_->forward(src.images)));
}

Tensor Seq2SeqTransformer::encode(const Source& src, std::vector<Tensor>* enc_weights) const {
  const IntTensor mask = memory_mask(src);
  Tensor x = embed_source(src);
  if (enc_weights) enc_weights->assign(enc_layers_.size(), Tensor());
  for (size_t i = 0; i < enc_layers_.size(); ++i)
    x = enc_layers_[i]->forward(x, mask_or_null(mask), enc_weights ? &(*enc_weights)[i] : nullptr);
  return enc_norm_.forward(x);
}

Tensor Seq2SeqTransformer::decode(const Tensor& memory, const Source& src, const IntTensor& tgt_in,
                                  std::vector<DecoderWeights>* dec_weights) const {
  // Causal by flag over the key padding (B, 1, 1, T): no (T, T) mask, and no (B, T, T) bytes.
  const IntTensor padding = key_padding_mask(tgt_in, cfg_.pad_id);
  const AttentionMask self_mask(&padding, true);
  const IntTensor mem_mask = memory_mask(src);
  Tensor y = embed(tgt_embed_, tgt_in, 0);
  if (dec_weights) dec_weights->assign(dec_layers_.size(), DecoderWeights{});
  for (size_t i = 0; i < dec_layers_.size(); ++i)
    y = dec_layers_[i]->forward(y, memory, self_mask, mask_or_null(mem_mask),
                                dec_weights ? &(*dec_weights)[i] : nullptr);
  return output_.forward(dec_norm_.forward(y));
}

Tensor Seq2SeqTransformer::forward(const Source& src, const IntTensor& tgt_in) const {
  return decode(encode(src), src, tgt_in);
}

Tensor Seq2SeqTransformer::loss(const Source& src, const IntTensor& tgt_in,
                                const IntTensor& tgt_out, double label_smoothing) const {
  if (tgt_in.shape != tgt_out.shape)
    throw std::invalid_argument("decoder input " + shape_str(tgt_in.shape) + " and target " +
                                shape_str(tgt_out.shape) + " differ in shape");
  const Tensor logits = forward(src, tgt_in);
  const IntTensor flat({tgt_out.numel()}, tgt_out.data);
  return cross_entropy(reshape(logits, {-1, cfg_.tgt_vocab}), flat, cfg_.pad_id, label_smoothing);
}

DecodeState Seq2SeqTransformer::start_decoding(const Source& src) const {
  DecodeState s;
  s.memory = encode(src);
  s.mem_mask = memory_mask(src);
  s.caches.resize(dec_layers_.size());
  for (size_t i = 0; i < dec_layers_.size(); ++i)
    dec_layers_[i]->start_cache(s.caches[i], s.memory);
  return s;
}

Tensor Seq2SeqTransformer::decode_step(DecodeState& s, const std::vector<int64_t>& tokens,
                                       std::vector<DecoderWeights>* dec_weights) const {
  const int64_t B = s.rows();
  if (static_cast<int64_t>(tokens.size()) != B)
    throw std::invalid_argument("decode_step: " + std::to_string(tokens.size()) +
                                " tokens for a batch of " + std::to_string(B));
  Tensor y = embed(tgt_embed_, IntTensor({B, 1}, tokens), s.pos);  // (B, 1, C)
  if (dec_weights) dec_weights->assign(dec_layers_.size(), DecoderWeights{});
  for (size_t i = 0; i < dec_layers_.size(); ++i)
    y = dec_layers_[i]->step(y, s.caches[i], mask_or_null(s.mem_mask),
                             dec_weights ? &(*dec_weights)[i] : nullptr);
  ++s.pos;
  return reshape(output_.forward(dec_norm_.forward(y)), {B, cfg_.tgt_vocab});
}

}  // namespace sg
