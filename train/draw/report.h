// The report of one or more training runs: one self-contained HTML page (inline CSS and SVG; no
// scripts, fonts, images or links to fetch, so it opens offline and makes no request) with
//   a summary per run (status, steps, best validation loss, the latest metrics, time),
//   charts against steps (train/draw/chart.h): loss (training and validation), learning rate,
//     target tokens per second, and every other metric of the evaluations and the train records;
//     several runs overlay their curves, a colour per run,
//   the checkpoints (step, validation loss at that step, size, which is best and which latest),
//   the attention maps (mean over heads, train/draw/attention_render.h) of a few validation
//     examples,
//   the configuration (several runs: side by side, the options that differ first).
// `seqgrad report` writes it, and `seqgrad train` after each evaluation and at the end of a run,
// through a temporary file and a rename, so a browser reloading it never sees half a page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "datasets/example.h"
#include "datasets/image.h"
#include "datasets/text_codec.h"
#include "datasets/tokenizer.h"
#include "datasets/vocab.h"
#include "layers/transformer.h"
#include "train/draw/run_contents.h"

namespace sg {

struct ReportRun {
  std::string name;  // the run folder as given
  RunMetrics metrics;
  std::vector<CheckpointEntry> checkpoints;
  nlohmann::json config;                    // null: unknown (no readable checkpoint yet)
  std::vector<std::string> attention_svgs;  // one inline SVG per example
  std::string attention_note;               // whose maps they are, or why there are none
};

// Reads a run folder's metrics.jsonl, checkpoints and configuration. Throws std::runtime_error
// naming the folder or the file and line: no such folder, a folder with neither metrics.jsonl
// nor a checkpoint, a malformed metrics line.
ReportRun load_report_run(const std::string& dir);

// Draws the attention maps (the mean over heads of every layer) of the first `n` examples, as
// `model` decodes them greedily in eval mode (its mode is restored after) up to the default
// length limit of its training data's `lengths` (decode_limit); `what` names the model in the
// page, e.g. "latest.h5 (step 3000)".
void add_attention(ReportRun& run, Seq2SeqTransformer& model, const TextCodec& src_codec,
                   const TextCodec& tgt_codec, const LengthStats& lengths,
                   const std::vector<Example>& examples, int64_t n, const std::string& what);
// The same for an image model's examples (its cross-attention drawn over each picture).
void add_attention(ReportRun& run, Seq2SeqTransformer& model, const TextCodec& tgt_codec,
                   const LengthStats& lengths, const std::vector<ImageExample>& examples, int64_t n,
                   const std::string& what);

// The same with the run's newest readable checkpoint (latest.h5, else best.h5, else the highest
// step) on the held-out data of its run. A checkpoint or data that cannot be read leaves a note
// saying why instead of maps.
void add_attention_from_checkpoints(ReportRun& run, int64_t n);

std::string render_report(const std::vector<ReportRun>& runs);

// Writes the page atomically (a temporary file in the same folder, then a rename). Throws
// std::runtime_error naming the file.
void write_report(const std::string& path, const std::string& html);

}  // namespace sg
