#include "train/config/model_config.h"

#include <algorithm>

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
  m.max_len = std::max<int64_t>(512, 2 * c.max_len + 16);
  return m;
}

TokenizeMode tokenize_mode_of(const Config& c) {
  if (c.task == "dates") return TokenizeMode::character;
  if (c.task == "tsv") return Tokenizer::parse_mode(c.tokenize);
  return TokenizeMode::word;
}

}  // namespace sg
