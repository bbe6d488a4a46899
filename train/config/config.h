// The resolved configuration of a run: every option of docs/cli.md as a plain struct, parsed
// from the command line and an optional `--config` INI file (the command line wins), validated, and
// printable back as an INI that `--config` accepts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace sg {

struct Config {
  // data
  std::string task = "copy";  // copy | reverse | sort | dates | tsv | glyphs
  std::string train_file, valid_file, data_file;
  int64_t min_len = 1, max_len = 10, symbols = 10;
  std::string tokenize = "word";  // word | char | spm (TSV)
  int64_t min_freq = 1;
  // SentencePiece (--tokenize spm): pieces of a trained model (specials included), an existing
  // model file to use instead, and the training-file lines a model is trained on.
  int64_t vocab_size = 8000;
  std::string spm_model;
  int64_t spm_sample = 200000;
  // One vocabulary for source and target (--shared-vocab; on by default with spm): the two
  // vocabularies are then equal token lists, which --share-embeddings needs.
  bool shared_vocab = false;
  int64_t valid_size = 1000;  // held-out examples of a synthetic task
  // images of the glyphs task: the size in pixels (width 0: wide enough for --max-len
  // characters), read as patch x patch squares
  int64_t image_height = 16, image_width = 0, patch = 4;
  // model
  int64_t d_model = 128, heads = 4, enc_layers = 2, dec_layers = 2, ff = 512;
  double dropout = 0.0;  // the reference recipe (bench/README.md) trains without dropout
  bool norm_first = false;
  bool share_embeddings = false;  // one matrix for src_embed, tgt_embed, generator (docs/model.md)
  // optimization
  std::string optim = "adam";  // adam | adamw | sgd
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.98, eps = 1e-9, weight_decay = 0.0, momentum = 0.0;
  bool nesterov = false;
  double clip_norm = 1.0;                 // 0: no clipping
  std::string schedule = "inverse_sqrt";  // constant | noam | cosine | inverse_sqrt
  int64_t warmup = 400;
  double label_smoothing = 0.0;
  double ema = 0.0;  // --ema DECAY: a moving average of the weights (optim/ema.h); 0: none
  int64_t batch = 64, steps = 3000, epochs = 0;
  int64_t max_tokens = 0;     // TSV: batches of at most N tokens, padding counted (0: --batch)
  int64_t micro_batches = 1;  // pieces of a batch whose gradients accumulate (memory, MPI parity)
  bool shuffle = true;
  uint64_t seed = 0;
  int threads = 0;  // 0: all cores
  // run
  std::string out;  // default runs/<task>
  int64_t save_every = 500, keep = 3, eval_every = 50, patience = 0, log_every = 50;
  std::string resume, checkpoint, input, image;
  int64_t beam = 1, decode_max_len = 0;  // 0: source length * 2 + 10
  std::string best_metric = "loss";      // loss | bleu | chrf | exact_match: best.h5, patience
  double length_penalty = 1.0;           // beam scores: log p / length^length_penalty
  int64_t n_best = 1;                    // translate: hypotheses printed per input
  bool sample = false;                   // sampling instead of greedy/beam decoding
  int64_t top_k = 0;                     // 0: every token
  double top_p = 1.0, temperature = 1.0;
  bool json = false;
  // Start a fresh run in a folder that holds another run, removing its files first. An
  // instruction to this invocation, not part of the run: not in to_json().
  bool overwrite = false;
  // eval, translate, attention: the checkpoint's /ema weights instead of /model. Not in to_json().
  bool use_ema = false;

  nlohmann::json to_json() const;
  static Config from_json(const nlohmann::json& j);
};

}  // namespace sg
