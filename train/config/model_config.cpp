#include "train/config/model_config.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sg {

ModelConfig model_config(const Config& c, int64_t src_vocab, int64_t tgt_vocab) {
  ModelConfig m;
  m.src_vocab = src_vocab;
  m.tgt_vocab = tgt_vocab;
  m.d_model = c.d_model;
  m.heads = c.heads;
  m.enc_layers = c.enc_layers;
  m.dec_layers = c.dec_layers;
  m.ff = c.ff;
  m.dropout = c.dropout;
  m.norm_first = c.norm_first;
  m.share_embeddings = c.share_embeddings;
  m.max_len = std::max<int64_t>(512, 2 * c.max_len + 16);
  if (c.task == "glyphs") {
    const GlyphOptions g = glyph_options(c);
    m.patch = c.patch;
    m.image_height = g.height;
    m.image_width = g.width;
  }
  return m;
}

GlyphOptions glyph_options(const Config& c) {
  GlyphOptions g;
  g.symbols = c.symbols;
  g.min_len = c.min_len;
  g.max_len = c.max_len;
  g.height = c.image_height;
  g.width = c.image_width;
  if (g.width <= 0 && c.patch > 0 && c.max_len > 0 && c.max_len <= 10000) {
    const auto need = static_cast<int64_t>(std::ceil(static_cast<double>(c.image_height) / 16.0 *
                                                     (11.0 * static_cast<double>(c.max_len) + 2)));
    g.width = (need + c.patch - 1) / c.patch * c.patch;
  }
  return g;
}

TokenizeMode tokenize_mode_of(const Config& c) {
  if (c.task == "dates" || c.task == "glyphs") return TokenizeMode::character;
  if (c.task == "tsv" && c.tokenize == "char") return TokenizeMode::character;
  return TokenizeMode::word;
}

std::pair<TextCodec, TextCodec> stored_codecs(const Config& c,
                                              const std::vector<std::string>& src_vocab,
                                              const std::vector<std::string>& tgt_vocab,
                                              const std::string& spm_model,
                                              const std::string& what) {
  try {
    if (c.task == "tsv" && c.tokenize == "spm") {
      const auto spm = SentencePieceModel::from_bytes(spm_model, "/vocab/spm");
      if (spm->vocab().tokens() != src_vocab || spm->vocab().tokens() != tgt_vocab)
        throw std::runtime_error(
            "/vocab/src and /vocab/tgt are not the pieces of the SentencePiece model in "
            "/vocab/spm");
      return {TextCodec(spm), TextCodec(spm)};
    }
    if (c.task == "tsv") Tokenizer::parse_mode(c.tokenize);  // an unknown name throws
    const TokenizeMode mode = tokenize_mode_of(c);
    return {TextCodec(mode, Vocab(src_vocab)), TextCodec(mode, Vocab(tgt_vocab))};
  } catch (const std::exception& e) {
    throw std::runtime_error(what + ": " + e.what());
  }
}

}  // namespace sg
