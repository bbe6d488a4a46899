// What a run's Config implies for the model and the text: the network it builds and how its
// text becomes token ids and back.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "datasets/glyphs.h"
#include "datasets/text_codec.h"
#include "datasets/tokenizer.h"
#include "layers/transformer.h"
#include "train/config/config.h"

namespace sg {

// The model configuration a run's Config and vocabularies describe. The positional table covers
// max(512, 2 * max_len + 16) positions. The glyphs task makes an image model (glyph_options'
// image size, --patch).
ModelConfig model_config(const Config& c, int64_t src_vocab, int64_t tgt_vocab);

// The glyphs task of a Config: --symbols, --min-len, --max-len, and the image size, where
// --image-width 0 means ceil(H / 16 * (11 * max_len + 2)) rounded up to a multiple of --patch
// (H = --image-height): room for the longest string at the largest scale and spacing.
GlyphOptions glyph_options(const Config& c);
// How a run's configuration tokenizes text without SentencePiece (dates, glyphs: characters;
// tsv: --tokenize word or char; else words).
TokenizeMode tokenize_mode_of(const Config& c);

// The source and target codecs of a trained run, from what its checkpoint stores: the
// vocabularies in id order and, with --tokenize spm, the serialized SentencePiece model, whose
// pieces must be exactly those vocabularies. Throws std::runtime_error "<what>: ..." when they
// do not fit together.
std::pair<TextCodec, TextCodec> stored_codecs(const Config& c,
                                              const std::vector<std::string>& src_vocab,
                                              const std::vector<std::string>& tgt_vocab,
                                              const std::string& spm_model,
                                              const std::string& what);

}  // namespace sg
