// What a run's Config implies for the model and the text: the network it builds and how its
// text is split into tokens.
#pragma once

#include <cstdint>

#include "datasets/tokenizer.h"
#include "layers/transformer.h"
#include "train/config/config.h"

namespace sg {

// The model configuration a run's Config and vocabularies describe. The positional table covers
// max(512, 2 * max_len + 16) positions.
ModelConfig model_config(const Config& c, int64_t src_vocab, int64_t tgt_vocab);
// How a run's configuration tokenizes text (dates: characters; tsv: --tokenize; else words).
TokenizeMode tokenize_mode_of(const Config& c);

}  // namespace sg
