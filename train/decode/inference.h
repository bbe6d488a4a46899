// A trained model loaded from a checkpoint for eval, translate, attention and the report: the
// model (eval mode), how its text becomes ids and back (vocabularies, tokenization, the
// SentencePiece model the checkpoint holds), the checkpoint's contents; and the held-out data of
// the run that trained it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/example.h"
#include "datasets/image.h"
#include "datasets/text_codec.h"
#include "layers/transformer.h"
#include "train/checkpoint/checkpoint.h"
#include "train/decode/stepper.h"

namespace sg {

struct LoadedModel {
  CheckpointContents contents;
  std::unique_ptr<Seq2SeqTransformer> model;
  TextCodec src_codec, tgt_codec;
  LengthStats train_lengths;  // training_lengths(contents): the default decode limit's basis
};

// With `use_ema`, the parameters come from /ema (train --ema) instead of /model; a checkpoint
// without /ema is then a UsageError naming --use-ema and the file.
LoadedModel load_for_inference(const std::string& path, bool use_ema = false);

// The checkpoints of an ensemble (one or more). They must share the vocabularies, the
// tokenization and the input (text, or images of one size); the first one's tokenization and
// training lengths serve all. Throws std::runtime_error naming the checkpoint that differs.
std::vector<LoadedModel> load_ensemble(const std::vector<std::string>& paths, bool use_ema = false);
Models models_of(const std::vector<LoadedModel>& loaded);

// The training data's longest target and largest target/source length ratio, as the checkpoint
// records them. A checkpoint written before they were recorded falls back to:
// - a synthetic task's bounds, rebuilt from its config (the same values a new checkpoint holds);
// - for a TSV corpus, --max-len as the longest target (training refused longer lines, so the
//   default limit still covers every training target) and ratio 2, the factor of the rule
//   before (2 * source length + 12);
// - for the glyphs task, --max-len as the longest target and ratio 1 (unused: an image has no
// tokens);
// - unknown lengths (decode_limit's old rule) if the config names no task seqgrad knows.
LengthStats training_lengths(const CheckpointContents& c);

// What eval may choose about the data it scores (docs/cli.md#eval); an unset field keeps the
// checkpoint's run's value.
struct HeldOutOptions {
  std::string data_file;   // a TSV file instead of the run's held-out data
  std::string valid_file;  // a tsv run's held-out file, as named here (its path may differ)
  // A synthetic task's held-out set: its source lengths and size (0: the run's). For a TSV file,
  // max_len is the most tokens a side may have (within the model's positional table).
  int64_t min_len = 0, max_len = 0, valid_size = 0;
};

// The examples of o.data_file (TSV), or without it the held-out data of the checkpoint's run:
// its --valid file, or the held-out set of its synthetic task (the same examples as in training
// unless o changes its lengths or size). A side longer than the model's positional table (or
// o.max_len) allows is an error naming file and line; a tsv run without a --valid file is a
// UsageError naming --data, a synthetic length the model cannot read one naming --max-len. For a
// TSV file, refs (if given) receives the target texts as written; for a synthetic task it is left
// empty (their text is their tokens').
std::vector<Example> held_out_data(const LoadedModel& m, const HeldOutOptions& o = {},
                                   std::vector<std::string>* refs = nullptr);
// The same for an image model: the pairs of o.data_file, a TSV of image paths (relative to the
// file's folder) and their texts, each image read and fitted to the model's input; or the
// held-out images of the checkpoint's glyphs task (o's lengths and size, if set, at the model's
// image size). A file problem throws std::runtime_error naming the TSV file and line (and the
// image file); lengths the image cannot hold, a UsageError naming the option.
std::vector<ImageExample> held_out_images(const LoadedModel& m, const HeldOutOptions& o = {});
// The image file at `path` as an image model reads it: read (PNG or PGM) and fitted to the
// model's input size (fit_image). Throws std::runtime_error naming the file.
Image load_model_image(const ModelConfig& model, const std::string& path);
// Images of the model's input size stacked into a (B, H, W) float32 source.
Source image_source(const std::vector<Image>& images);

}  // namespace sg
