// Held-out evaluation: teacher-forced loss and token accuracy over non-pad target tokens, and
// exact match, BLEU and chrF of decoded outputs (greedy, or beam search with --beam). BLEU and
// chrF score the detokenized text, as sacreBLEU does (text_metrics.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "datasets/batch.h"
#include "datasets/example.h"
#include "datasets/image.h"
#include "progress/progress.h"
#include "train/decode/decode.h"

namespace sg {

struct EvalResult {
  double loss = 0, ppl = 0, token_acc = 0, exact_match = 0, bleu = 0, chrf = 0;
  int64_t n = 0;    // examples
  DecodeCuts cuts;  // decoded outputs that stopped at their length limit without <eos>
};

// The most logits (rows x T x V) one teacher-forced forward pass of evaluate computes, whatever
// EvalOptions::batch: 64 MB of float32 (a float64 mean for an ensemble).
constexpr int64_t kEvalLogitsBudget = int64_t{1} << 24;

struct EvalOptions {
  int64_t batch = 200;
  DecodeOptions decode;    // decode.max_len 0: the default limit per source (decode_limit)
  bool run_decode = true;  // exact match, BLEU and chrF need decoding
  // Target ids -> the text `translate` prints for them; BLEU and chrF score that text. Unset:
  // the ids written as decimal numbers joined by spaces.
  std::function<std::string(const std::vector<int64_t>&)> detokenize;
  // The reference text of each example, in order (a TSV file's target column as written, so a
  // word the vocabulary lacks stays itself); null: detokenize(example.tgt).
  const std::vector<std::string>* refs = nullptr;
  Progress* progress = nullptr;  // if given, moved to the examples done after each batch
};

// Runs in eval mode (restoring the model's mode after) without recording a graph.
EvalResult evaluate(Seq2SeqTransformer& model, const std::vector<Example>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs = nullptr);
// The same for models already in eval mode, one or an ensemble: its loss and token accuracy are
// those of the mean of the models' probabilities (one model: exactly the model's own).
EvalResult evaluate(const Models& models, const std::vector<Example>& data, const EvalOptions& opt,
                    std::vector<std::vector<int64_t>>* outputs = nullptr);
// The same for an image model's examples (or an ensemble of image models).
EvalResult evaluate(Seq2SeqTransformer& model, const std::vector<ImageExample>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs = nullptr);
EvalResult evaluate(const Models& models, const std::vector<ImageExample>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs = nullptr);

// What the encoder reads of a batch: its images, or its source ids.
Source source_of(const Batch& b);

}  // namespace sg
