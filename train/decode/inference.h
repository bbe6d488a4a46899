// A trained model loaded from a checkpoint for eval, translate, attention and the report: the
// model (eval mode), its vocabularies and tokenization, and the checkpoint's contents; text to
// ids and back for such a model; the held-out data of the run that trained it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/example.h"
#include "datasets/tokenizer.h"
#include "datasets/vocab.h"
#include "layers/transformer.h"
#include "train/checkpoint/checkpoint.h"

namespace sg {

struct LoadedModel {
  CheckpointContents contents;
  std::unique_ptr<Seq2SeqTransformer> model;
  Vocab src_vocab, tgt_vocab;
  TokenizeMode mode = TokenizeMode::word;
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

// Encodes one line of source text with the source vocabulary of the given tokenization.
std::vector<int64_t> encode_source(const std::string& text, const Vocab& vocab, TokenizeMode mode);
// Decodes target ids to text (specials dropped).
std::string decode_target(const std::vector<int64_t>& ids, const Vocab& vocab, TokenizeMode mode);

// The examples of `data_file` (TSV), or without it the held-out data of the checkpoint's run:
// its --valid file, or the held-out set of its synthetic task. A side longer than the model's
// positional table allows is an error naming file and line; a tsv run without a --valid file
// is a UsageError naming --data.
std::vector<Example> held_out_data(const LoadedModel& m, const std::string& data_file = "");

}  // namespace sg
