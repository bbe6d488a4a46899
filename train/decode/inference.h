// A trained model loaded from a checkpoint for eval, translate and attention: the model (eval
// mode), how its text becomes ids and back (vocabularies, tokenization, the SentencePiece model
// the checkpoint holds), and the checkpoint's contents.
#pragma once

#include <memory>
#include <string>

#include "datasets/text_codec.h"
#include "layers/transformer.h"
#include "train/checkpoint/checkpoint.h"

namespace sg {

struct LoadedModel {
  CheckpointContents contents;
  std::unique_ptr<Seq2SeqTransformer> model;
  TextCodec src_codec, tgt_codec;
  LengthStats train_lengths;  // training_lengths(contents): the default decode limit's basis
};

LoadedModel load_for_inference(const std::string& path);

// The training data's longest target and largest target/source length ratio, as the checkpoint
// records them. A checkpoint written before they were recorded falls back to:
// - a synthetic task's bounds, rebuilt from its config (the same values a new checkpoint holds);
// - for a TSV corpus, --max-len as the longest target (training refused longer lines, so the
//   default limit still covers every training target) and ratio 2, the factor of the rule
//   before (2 * source length + 12);
// - unknown lengths (decode_limit's old rule) if the config names no task seqgrad knows.
LengthStats training_lengths(const CheckpointContents& c);

}  // namespace sg
