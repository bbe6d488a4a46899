// Held-out evaluation: teacher-forced loss and token accuracy over non-pad target tokens, and
// exact match and corpus BLEU of decoded outputs (greedy, or beam search with --beam).
#pragma once

#include <vector>

#include "datasets/example.h"
#include "progress/progress.h"
#include "train/decode/decode.h"

namespace sg {

struct EvalResult {
  double loss = 0, ppl = 0, token_acc = 0, exact_match = 0, bleu = 0;
  int64_t n = 0;    // examples
  DecodeCuts cuts;  // decoded outputs that stopped at their length limit without <eos>
};

struct EvalOptions {
  int64_t batch = 200;
  DecodeOptions decode;    // decode.max_len 0: the default limit per source (decode_limit)
  bool run_decode = true;  // exact match and BLEU need decoding
  Progress* progress = nullptr;  // if given, moved to the examples done after each batch
};

// Runs in eval mode (restoring the model's mode after) without recording a graph.
EvalResult evaluate(Seq2SeqTransformer& model, const std::vector<Example>& data,
                    const EvalOptions& opt, std::vector<std::vector<int64_t>>* outputs = nullptr);

}  // namespace sg
