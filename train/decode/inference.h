// A trained model loaded from a checkpoint for eval, translate, attention and the report: the
// model (eval mode), how its text becomes ids and back (vocabularies, tokenization, the
// SentencePiece model the checkpoint holds), the checkpoint's contents; and the held-out data of
// the run that trained it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/example.h"
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

// The examples of `data_file` (TSV), or without it the held-out data of the checkpoint's run:
// its --valid file, or the held-out set of its synthetic task. A side longer than the model's
// positional table allows is an error naming file and line; a tsv run without a --valid file
// is a UsageError naming --data. For a TSV file, refs (if given) receives the target texts as
// written; for a synthetic task it is left empty (their text is their tokens').
std::vector<Example> held_out_data(const LoadedModel& m, const std::string& data_file = "",
                                   std::vector<std::string>* refs = nullptr);

}  // namespace sg
