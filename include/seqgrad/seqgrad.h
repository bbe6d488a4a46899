// seqgrad's public API in one include (docs/api.md): link seqgrad::seqgrad and write
//   #include <seqgrad/seqgrad.h>
// Everything is in namespace sg. The headers below are the public ones; each can also be
// included alone by the same name ("layers/attention.h"), since the installed package puts
// <prefix>/include/seqgrad on the include path. train/checkpoint/hdf5.h (seqgrad's RAII layer
// over the HDF5 C API) is installed too but not included here: it brings <hdf5.h> with it.
#pragma once

// Progress of long work: a bar on a terminal, plain lines in a log, nothing under --json.
#include "progress/progress.h"

// Tensors, ops, the engine, gradient checks, random numbers, threads.
#include "autograd/engine.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/parallel.h"
#include "autograd/random.h"
#include "autograd/tensor.h"

// Modules and layers: Linear, Embedding, LayerNorm, Dropout, positions (1-D and 2-D), attention,
// the patch embedding of images, the Transformer's layers and the Seq2Seq model, and the whole
// gradcheck table.
#include "layers/attention.h"
#include "layers/decoder_layer.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/encoder_layer.h"
#include "layers/feed_forward.h"
#include "layers/gradcheck_table.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/module.h"
#include "layers/patch_embedding.h"
#include "layers/positional.h"
#include "layers/positional_2d.h"
#include "layers/transformer.h"

// Optimizers, gradient clipping, learning-rate schedules.
#include "optim/adam.h"
#include "optim/adamw.h"
#include "optim/clip.h"
#include "optim/make_optimizer.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

// Vocabularies, tokenizers, TSV corpora, the generated tasks (the glyphs task's images from its
// bitmap font too), PNG and PGM images, batches.
#include "datasets/batch.h"
#include "datasets/bitmap_font.h"
#include "datasets/dates.h"
#include "datasets/example.h"
#include "datasets/file_batcher.h"
#include "datasets/glyphs.h"
#include "datasets/image.h"
#include "datasets/stream_batcher.h"
#include "datasets/synthetic.h"
#include "datasets/task.h"
#include "datasets/task_stream.h"
#include "datasets/tokenizer.h"
#include "datasets/tsv.h"
#include "datasets/vocab.h"

// A run's configuration, checkpoints (save, read, load; optimizer and schedule state).
#include "train/checkpoint/checkpoint.h"
#include "train/checkpoint/state_io.h"
#include "train/config/config.h"
#include "train/config/errors.h"
#include "train/config/memory_check.h"
#include "train/config/model_config.h"

// Decoding and evaluating the Seq2Seq model: greedy, sampling and beam search (one model or an
// ensemble, one step at a time), loss, BLEU and chrF.
#include "train/decode/decode.h"
#include "train/decode/evaluate.h"
#include "train/decode/inference.h"
#include "train/decode/metrics.h"
#include "train/decode/stepper.h"
#include "train/decode/text_metrics.h"
