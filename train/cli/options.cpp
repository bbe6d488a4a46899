#include "train/cli/options.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string_view>

#include "datasets/tokenizer.h"
#include "train/config/model_config.h"

namespace sg::cli {

namespace {

// po::value bound to *v, with *v as its default when `defaults` (train), without one otherwise
// (eval, translate and attention, where an option not given takes the checkpoint's value).
template <class T>
po::typed_value<T>* value_of(T* v, bool defaults) {
  po::typed_value<T>* s = po::value(v);
  return defaults ? s->default_value(*v) : s;
}

// A switch (no value on the command line; `name = true` in an INI file), off by default when
// `defaults`.
po::typed_value<bool>* switch_of(bool* v, bool defaults) {
  return defaults ? po::bool_switch(v) : po::value(v)->zero_tokens();
}

}  // namespace

po::options_description data_options(Config& c, bool defaults) {
  auto val = [defaults](auto* v) { return value_of(v, defaults); };
  po::options_description d("data");
  d.add_options()("task", val(&c.task),
                  "copy | reverse | sort | dates | tsv | glyphs (images of short strings)")(
      "train", po::value(&c.train_file), "training TSV file (task tsv)")(
      "valid", po::value(&c.valid_file), "held-out TSV file (task tsv)")(
      "data", po::value(&c.data_file), "TSV file to evaluate (eval)")(
      "min-len", val(&c.min_len), "shortest synthetic sequence")(
      "max-len", val(&c.max_len),
      "longest synthetic sequence (at most 10000); with --task tsv, the most tokens a side of a "
      "line may have (default 256 there; longer lines are an error)")(
      "symbols", val(&c.symbols), "symbols of a synthetic task")(
      "tokenize", val(&c.tokenize), "word | char | spm (TSV; spm: SentencePiece pieces)")(
      "min-freq", val(&c.min_freq),
      "least count for a token to enter the vocabulary (TSV, word and char)")(
      "vocab-size", val(&c.vocab_size),
      "pieces of the SentencePiece model trained with --tokenize spm, specials included")(
      "spm-model", po::value(&c.spm_model),
      "an existing SentencePiece model file to use instead of training one (--tokenize spm)")(
      "spm-sample", val(&c.spm_sample),
      "training-file lines the SentencePiece model is trained on (a seeded sample of a longer "
      "file)")("shared-vocab", val(&c.shared_vocab)->implicit_value(true),
               "one vocabulary for source and target (default: on with --tokenize spm)")(
      "valid-size", val(&c.valid_size), "held-out examples of a synthetic task")(
      "image-height", val(&c.image_height), "image height in pixels (glyphs)")(
      "image-width", val(&c.image_width),
      "image width in pixels (glyphs; 0: wide enough for --max-len characters)");
  return d;
}

po::options_description model_options(Config& c, bool defaults) {
  auto val = [defaults](auto* v) { return value_of(v, defaults); };
  po::options_description d("model");
  d.add_options()("d-model", val(&c.d_model), "model width")("heads", val(&c.heads),
                                                             "attention heads (divide --d-model)")(
      "enc-layers", val(&c.enc_layers), "encoder layers")(
      "dec-layers", val(&c.dec_layers), "decoder layers")("ff", val(&c.ff), "feed-forward width")(
      "dropout", val(&c.dropout), "dropout probability")(
      "norm-first", switch_of(&c.norm_first, defaults), "pre-LN layers (default post-LN)")(
      "share-embeddings", switch_of(&c.share_embeddings, defaults),
      "one matrix for the source and target embeddings and the output layer (a TSV corpus then "
      "builds one vocabulary for both sides)")(
      "patch", val(&c.patch), "an image model reads patch x patch squares of pixels (glyphs)");
  return d;
}

po::options_description optim_options(Config& c) {
  po::options_description d("optimization");
  d.add_options()("optim", po::value(&c.optim)->default_value(c.optim), "adam | adamw | sgd")(
      "lr", po::value(&c.lr)->default_value(c.lr), "peak learning rate")(
      "beta1", po::value(&c.beta1)->default_value(c.beta1), "Adam beta1")(
      "beta2", po::value(&c.beta2)->default_value(c.beta2), "Adam beta2")(
      "eps", po::value(&c.eps)->default_value(c.eps), "Adam epsilon")(
      "weight-decay", po::value(&c.weight_decay)->default_value(c.weight_decay), "weight decay")(
      "momentum", po::value(&c.momentum)->default_value(c.momentum), "SGD momentum")(
      "nesterov", po::bool_switch(&c.nesterov), "SGD Nesterov momentum")(
      "clip-norm", po::value(&c.clip_norm)->default_value(c.clip_norm),
      "clip gradients to this global norm (0: off)")(
      "schedule", po::value(&c.schedule)->default_value(c.schedule),
      "constant | noam | cosine | inverse_sqrt (warmup to --lr, then 1/sqrt decay)")(
      "warmup", po::value(&c.warmup)->default_value(c.warmup), "warmup steps")(
      "label-smoothing", po::value(&c.label_smoothing)->default_value(c.label_smoothing),
      "label smoothing of the loss")(
      "ema", po::value(&c.ema),
      "keep an exponential moving average of the weights with this decay, 0 < DECAY < 1 "
      "(e.g. 0.999); evaluations and best.h5 use it, eval and translate with --use-ema")(
      "batch", po::value(&c.batch)->default_value(c.batch), "sequences per batch")(
      "max-tokens", po::value(&c.max_tokens)->default_value(c.max_tokens),
      "token-based batches (TSV): sentences of similar length, at most N tokens a batch counting "
      "padding, instead of --batch sentences (0: off)")(
      "micro-batches", po::value(&c.micro_batches)->default_value(c.micro_batches),
      "split each batch into N pieces whose gradients accumulate (less memory, same update)")(
      "steps", po::value(&c.steps)->default_value(c.steps), "training steps (total to reach)")(
      "epochs", po::value(&c.epochs)->default_value(c.epochs),
      "epochs over a TSV file (0: use --steps)")(
      "shuffle", po::value(&c.shuffle)->default_value(c.shuffle)->implicit_value(true),
      "shuffle the training data every epoch")("no-shuffle", po::bool_switch(),
                                               "keep file order (same as --shuffle false)")(
      "seed", po::value(&c.seed)->default_value(c.seed), "random seed")(
      "threads", po::value(&c.threads)->default_value(c.threads), "threads (0: all cores)");
  return d;
}

po::options_description run_options(Config& c) {
  po::options_description d("run");
  d.add_options()("out", po::value(&c.out), "output folder (default runs/<task>)")(
      "save-every", po::value(&c.save_every)->default_value(c.save_every),
      "save a checkpoint every N steps (0: only at the end)")(
      "keep", po::value(&c.keep)->default_value(c.keep), "checkpoints kept")(
      "eval-every", po::value(&c.eval_every)->default_value(c.eval_every),
      "evaluate every N steps (0: only at the end)")(
      "patience", po::value(&c.patience)->default_value(c.patience),
      "stop after N evaluations without a better validation loss (0: never)")(
      "log-every", po::value(&c.log_every)->default_value(c.log_every), "log every N steps")(
      "resume", po::value(&c.resume), "checkpoint to resume from, or 'auto' (latest.h5 in --out)")(
      "checkpoint", po::value(&c.checkpoint), "checkpoint to use")(
      "input", po::value(&c.input), "source text (translate, attention)")(
      "beam", po::value(&c.beam)->default_value(c.beam), "beam size (1: greedy)")(
      "decode-max-len", po::value(&c.decode_max_len)->default_value(c.decode_max_len),
      kDecodeMaxLenHelp)(
      "overwrite", po::bool_switch(&c.overwrite),
      "start a fresh run in a folder that holds another run, removing that run's checkpoints, "
      "metrics.jsonl and report.html first")(
      "best-metric", po::value(&c.best_metric)->default_value(c.best_metric),
      "loss | bleu | chrf | exact_match: the validation score that picks best.h5 and counts "
      "--patience")("json", po::bool_switch(&c.json), "print one JSON object per line");
  return d;
}

po::options_description decoding_options(Config& c, std::vector<std::string>& checkpoints,
                                         bool n_best) {
  po::options_description d("decoding");
  d.add_options()("checkpoint", po::value(&checkpoints)->composing(),
                  "checkpoint (give it several times for an ensemble)")(
      "beam", po::value(&c.beam)->default_value(1), "beam size (1: greedy)")(
      "length-penalty", po::value(&c.length_penalty)->default_value(c.length_penalty),
      "beam scores are log p / length^A")("sample", po::bool_switch(&c.sample),
                                          "sample each token instead of greedy or beam")(
      "top-k", po::value(&c.top_k)->default_value(c.top_k),
      "sample among the K most likely tokens (0: all)")(
      "top-p", po::value(&c.top_p)->default_value(c.top_p),
      "sample among the fewest most likely tokens whose probability reaches P")(
      "temperature", po::value(&c.temperature)->default_value(c.temperature),
      "sample from softmax(logits / T)")("seed", po::value(&c.seed)->default_value(c.seed),
                                         "seed of the sampling")(
      "decode-max-len", po::value(&c.decode_max_len)->default_value(0), kDecodeMaxLenHelp)(
      "use-ema", po::bool_switch(&c.use_ema), kUseEmaHelp)(
      "threads", po::value(&c.threads)->default_value(0), "threads (0: all cores)");
  if (n_best)
    d.add_options()("n-best", po::value(&c.n_best)->default_value(c.n_best),
                    "print the K best hypotheses of each input with their scores (K <= --beam)");
  return d;
}

DecodeOptions decoding_of(const Config& c, const LengthStats& lengths) {
  DecodeOptions d;
  d.beam = c.beam;
  d.max_len = c.decode_max_len;
  d.lengths = lengths;
  d.len_alpha = c.length_penalty;
  d.n_best = c.n_best;
  d.sample = c.sample;
  d.top_k = c.top_k;
  d.top_p = c.top_p;
  d.temperature = c.temperature;
  d.seed = c.seed;
  return d;
}

po::options_description train_options(Config& c) {
  po::options_description groups;
  groups.add(data_options(c)).add(model_options(c)).add(optim_options(c)).add(run_options(c));
  return groups;
}

namespace {

// A double as the shortest text that reads back as the same value.
std::string number(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string value_string(const boost::any& v) {
  if (auto p = boost::any_cast<std::string>(&v)) return *p;
  if (auto p = boost::any_cast<bool>(&v)) return *p ? "true" : "false";
  std::ostringstream o;
  if (auto i64 = boost::any_cast<int64_t>(&v))
    o << *i64;
  else if (auto u64 = boost::any_cast<uint64_t>(&v))
    o << *u64;
  else if (auto i = boost::any_cast<int>(&v))
    o << *i;
  else if (auto d = boost::any_cast<double>(&v))
    o << number(*d);  // 0.9, not 0.90000000000000002
  else
    throw std::logic_error("dump_ini: an option of a type it cannot print");
  return o.str();
}

// Program_options' description of nested groups, without the blank lines that groups without a
// caption leave.
std::string help_text(const po::options_description& d) {
  std::ostringstream raw;
  raw << d;
  std::istringstream in(raw.str());
  std::string out, line;
  bool blank = true;  // no blank line at the top, and never two in a row
  while (std::getline(in, line)) {
    if (line.empty() && blank) continue;
    blank = line.empty();
    out += line + '\n';
  }
  return out;
}

}  // namespace

std::string dump_ini(const po::options_description& groups, const po::variables_map& vm) {
  std::ostringstream o;
  for (const auto& opt : groups.options()) {
    const std::string name = opt->long_name();
    if (name == "no-shuffle" || !vm.count(name)) continue;
    if (auto list = boost::any_cast<std::vector<std::string>>(&vm[name].value())) {
      for (const auto& v : *list) o << name << " = " << v << '\n';  // a repeated option
      continue;
    }
    o << name << " = " << value_string(vm[name].value()) << '\n';
  }
  return o.str();
}

void validate(const Config& c, const po::variables_map& vm) {
  auto bad = [](const std::string& flag, const std::string& why) {
    throw UsageError("--" + flag + ": " + why);
  };
  // Every check runs on the effective value (given, from --config, or the default) of each
  // option this command has; `given` only decides which flag a relation between two names.
  auto has = [&](const char* n) { return vm.count(n) > 0; };
  auto given = [&](const char* n) { return vm.count(n) > 0 && !vm[n].defaulted(); };
  auto positive = [&](const char* n, int64_t v) {
    if (has(n) && v <= 0) bad(n, "must be positive, got " + std::to_string(v));
  };
  auto at_least = [&](const char* n, int64_t v, int64_t lo) {
    if (has(n) && v < lo)
      bad(n, "must be at least " + std::to_string(lo) + ", got " + std::to_string(v));
  };
  auto in_range = [&](const char* n, double v, double lo, double hi, bool hi_open) {
    if (has(n) && !(v >= lo && (hi_open ? v < hi : v <= hi)))
      bad(n, "must be in [" + number(lo) + ", " + number(hi) + (hi_open ? ")" : "]") + ", got " +
                 number(v));
  };
  auto non_negative = [&](const char* n, double v) {
    if (has(n) && !(v >= 0 && std::isfinite(v)))
      bad(n, "must be a finite number >= 0, got " + number(v));
  };
  auto one_of = [&](const char* n, const std::string& v, std::initializer_list<const char*> ok) {
    if (!has(n)) return;
    std::string list;
    for (const char* o : ok) {
      if (v == o) return;
      list += (list.empty() ? "" : ", ") + std::string(o);
    }
    bad(n, "unknown value '" + v + "' (expected " + list + ")");
  };
  one_of("task", c.task, {"copy", "reverse", "sort", "dates", "tsv", "glyphs"});
  one_of("tokenize", c.tokenize, {"word", "char", "spm"});
  one_of("optim", c.optim, {"adam", "adamw", "sgd"});
  one_of("schedule", c.schedule, {"constant", "noam", "cosine", "inverse_sqrt"});
  one_of("best-metric", c.best_metric, {"loss", "bleu", "chrf", "exact_match"});
  positive("min-len", c.min_len);
  positive("max-len", c.max_len);
  // TSV corpora ignore --min-len (and have their own --max-len default).
  if (has("min-len") && has("max-len") && c.task != "tsv" && c.min_len > c.max_len) {
    if (given("min-len"))
      bad("min-len",
          std::to_string(c.min_len) + " is larger than --max-len " + std::to_string(c.max_len));
    bad("max-len",
        std::to_string(c.max_len) + " is smaller than --min-len " + std::to_string(c.min_len));
  }
  positive("symbols", c.symbols);
  // Upper bounds on sizes whose cost is paid before training starts (held-out sets, the
  // positional table, vocabularies, beams), so that a typo is an error instead of a stall.
  auto at_most = [&](const char* n, int64_t v, int64_t most) {
    if (given(n) && v > most)
      bad(n, "at most " + std::to_string(most) + ", got " + std::to_string(v));
  };
  at_most("max-len", c.max_len, 10000);
  at_most("symbols", c.symbols, 1000000);
  at_most("valid-size", c.valid_size, 1000000);
  at_most("beam", c.beam, 1000);
  // And the batch: --batch 1000000000 ended in "out of memory" at the first step, naming no flag. A
  // million sequences a batch is far beyond any recipe.
  at_most("batch", c.batch, 1000000);
  // libgomp crashes (a segfault, no message) when asked for a team of about 100000 threads.
  at_most("threads", c.threads, 1024);
  positive("image-height", c.image_height);
  at_least("image-width", c.image_width, 0);
  positive("patch", c.patch);
  at_most("image-height", c.image_height, 1024);
  at_most("image-width", c.image_width, 4096);
  if (has("task") && c.task == "glyphs" && has("patch") && has("image-width")) {
    // The image size the run uses (--image-width 0: derived from --max-len), at most 65536
    // pixels: the held-out set alone holds --valid-size of them.
    const GlyphOptions g = glyph_options(c);
    if (g.width > 4096 || g.height * g.width > 65536) {
      const char* flag = given("image-width") ? "image-width"
                         : given("max-len")   ? "max-len"
                                              : "image-height";
      bad(flag, "images of " + std::to_string(g.width) + " x " + std::to_string(g.height) +
                    " pixels are too large (at most 4096 wide and 65536 pixels)");
    }
    for (const auto& [flag, v] :
         {std::pair<const char*, int64_t>{"image-height", g.height}, {"image-width", g.width}})
      if (v % c.patch != 0)
        bad(given("patch") ? "patch" : flag, "--patch " + std::to_string(c.patch) +
                                                 " does not divide --" + flag + " " +
                                                 std::to_string(v));
  }
  positive("min-freq", c.min_freq);
  // SentencePiece: its options only with --tokenize spm, which only tokenizes TSV corpora. Like
  // every check here these look at effective values, so that a --dump-config file, which lists
  // the defaults too, reads back: an option at its default value is never in the way.
  const bool spm = has("tokenize") && c.tokenize == "spm";
  const Config defaults;
  const bool set_vocab_size = has("vocab-size") && c.vocab_size != defaults.vocab_size;
  const bool set_spm_sample = has("spm-sample") && c.spm_sample != defaults.spm_sample;
  const bool set_spm_model = has("spm-model") && !c.spm_model.empty();
  if (spm && has("task") && c.task != "tsv")
    bad("tokenize", "spm tokenizes TSV corpora; it needs --task tsv, not '" + c.task + "'");
  if (!spm) {
    if (set_vocab_size) bad("vocab-size", "only with --tokenize spm");
    if (set_spm_sample) bad("spm-sample", "only with --tokenize spm");
    if (set_spm_model) bad("spm-model", "only with --tokenize spm");
  }
  if (spm && has("min-freq") && c.min_freq != defaults.min_freq)
    bad("min-freq", "not with --tokenize spm (SentencePiece chooses the pieces)");
  if (set_spm_model) {
    const char* why = "not with --spm-model (that model is used as it is, not trained)";
    if (set_vocab_size) bad("vocab-size", why);
    if (set_spm_sample) bad("spm-sample", why);
  }
  if (spm && given("spm-model") && c.spm_model.empty()) bad("spm-model", "empty file name");
  if (spm && has("shared-vocab") && !c.shared_vocab)
    bad("shared-vocab",
        "false is not available with --tokenize spm, whose one SentencePiece "
        "model serves both sides");
  if (c.share_embeddings && given("shared-vocab") && !c.shared_vocab)
    bad("share-embeddings", "needs one vocabulary for both sides, not --shared-vocab false");
  if (c.share_embeddings && has("task") && c.task == "glyphs")
    bad("share-embeddings", "needs a text source; the glyphs task reads images");
  // The TSV options of another task would go unused: train --train data.tsv without --task tsv
  // trained the copy task. A resume takes its task from the checkpoint, against which the options
  // given again are checked.
  const bool resuming = has("resume") && !c.resume.empty();
  // An option this command takes that the rest of the configuration would leave unused, refused
  // when it is set away from its default.
  auto unused = [&](const char* n, bool set, const std::string& why) {
    if (has(n) && set) bad(n, why);
  };
  if (has("task") && c.task != "tsv" && (given("task") || !resuming)) {
    const std::string why = "only with --task tsv; the " + c.task + " task makes its own data";
    unused("train", !c.train_file.empty(), why);
    unused("valid", !c.valid_file.empty(), why);
    unused("tokenize", c.tokenize != defaults.tokenize, why);
    unused("min-freq", c.min_freq != defaults.min_freq, why);
  }
  // Likewise the image options of a text task: train --patch 8 on the copy task.
  if (has("task") && c.task != "glyphs" && (given("task") || !resuming)) {
    const std::string why = "only with --task glyphs; the " + c.task + " task reads text";
    unused("image-height", c.image_height != defaults.image_height, why);
    unused("image-width", c.image_width != defaults.image_width, why);
    unused("patch", c.patch != defaults.patch, why);
  }
  // --max-tokens forms train's batches: a --batch beside it would go unused. (eval batches by
  // --batch and takes --max-tokens only for a shared INI file's sake; only train has
  // --micro-batches.)
  if (has("micro-batches") && has("max-tokens") && c.max_tokens > 0)
    unused("batch", c.batch != defaults.batch,
           "not with --max-tokens " + std::to_string(c.max_tokens) +
               ", which forms the batches (sentences of similar length, at most " +
               std::to_string(c.max_tokens) + " tokens each)");
  // And the generated tasks' options on a TSV corpus: train --task tsv --symbols 20. (The task
  // cannot be tsv by default, so a resume that names no task never gets here.)
  if (has("task") && c.task == "tsv") {
    const char* why =
        "only with a generated task; the tsv task reads its data from --train and --valid";
    unused("symbols", c.symbols != defaults.symbols, why);
    unused("min-len", c.min_len != defaults.min_len, why);
    unused("valid-size", c.valid_size != defaults.valid_size, why);
  }
  // A TSV run without a held-out file never evaluates: these would go unused (no early stop, no
  // best.h5).
  if (has("task") && c.task == "tsv" && c.valid_file.empty() && !resuming) {
    const char* why = "needs --valid FILE; a TSV run without one never evaluates";
    unused("patience", c.patience != defaults.patience, why);
    unused("best-metric", c.best_metric != defaults.best_metric, why);
  }
  at_least("vocab-size", c.vocab_size, 5);  // the four specials and one real piece
  at_most("vocab-size", c.vocab_size, 1000000);
  positive("spm-sample", c.spm_sample);
  positive("valid-size", c.valid_size);
  positive("d-model", c.d_model);
  positive("heads", c.heads);
  positive("ff", c.ff);
  at_least("enc-layers", c.enc_layers, 1);
  at_least("dec-layers", c.dec_layers, 1);
  if (has("heads") && has("d-model") && c.d_model % c.heads != 0) {
    if (given("heads") || !given("d-model"))
      bad("heads",
          std::to_string(c.heads) + " does not divide --d-model " + std::to_string(c.d_model));
    bad("d-model",
        std::to_string(c.d_model) + " is not divisible by --heads " + std::to_string(c.heads));
  }
  in_range("dropout", c.dropout, 0, 1, true);
  in_range("label-smoothing", c.label_smoothing, 0, 1, false);
  non_negative("lr", c.lr);
  in_range("beta1", c.beta1, 0, 1, true);
  in_range("beta2", c.beta2, 0, 1, true);
  non_negative("eps", c.eps);
  non_negative("weight-decay", c.weight_decay);
  non_negative("momentum", c.momentum);
  // Adam would ignore them (its momentum is --beta1). A resume takes --optim from its checkpoint.
  if (has("optim") && c.optim != "sgd" && (given("optim") || !resuming)) {
    const std::string why =
        "only with --optim sgd, not " + c.optim + " (whose momentum is --beta1)";
    unused("momentum", c.momentum != 0, why);
    unused("nesterov", c.nesterov, why);
  }
  if (has("nesterov") && c.nesterov && c.optim == "sgd" && has("momentum") && c.momentum <= 0)
    bad("nesterov", "needs --momentum > 0 (Nesterov momentum without momentum is undefined)");
  non_negative("clip-norm", c.clip_norm);
  if (has("ema") && !(c.ema > 0 && c.ema < 1))
    bad("ema", "must be in (0, 1), got " + number(c.ema));
  positive("batch", c.batch);
  positive("micro-batches", c.micro_batches);
  at_least("max-tokens", c.max_tokens, 0);
  positive("beam", c.beam);
  non_negative("length-penalty", c.length_penalty);
  positive("n-best", c.n_best);
  if (has("n-best") && has("beam") && c.n_best > c.beam)
    bad("n-best", std::to_string(c.n_best) + " is more than --beam " + std::to_string(c.beam));
  at_least("top-k", c.top_k, 0);
  if (has("top-p") && !(c.top_p > 0 && c.top_p <= 1))
    bad("top-p", "must be in (0, 1], got " + number(c.top_p));
  if (has("temperature") && !(c.temperature > 0 && std::isfinite(c.temperature)))
    bad("temperature", "must be a finite number > 0, got " + number(c.temperature));
  if (has("sample") && c.sample && has("beam") && c.beam > 1)
    bad("sample",
        "draws one output per input; it cannot be combined with --beam " + std::to_string(c.beam));
  // Greedy and beam search would ignore these: --top-k 5 without --sample decoded greedily.
  if (has("sample") && !c.sample) {
    const char* why = "only with --sample (greedy and beam search take the most likely tokens)";
    unused("top-k", c.top_k != defaults.top_k, why);
    unused("top-p", c.top_p != defaults.top_p, why);
    unused("temperature", c.temperature != defaults.temperature, why);
  }
  positive("keep", c.keep);
  positive("log-every", c.log_every);
  for (const auto& [name, v] : {std::pair<const char*, int64_t>{"warmup", c.warmup},
                                {"steps", c.steps},
                                {"epochs", c.epochs},
                                {"threads", c.threads},
                                {"save-every", c.save_every},
                                {"eval-every", c.eval_every},
                                {"patience", c.patience},
                                {"decode-max-len", c.decode_max_len}})
    at_least(name, v, 0);
  // --epochs sets the steps of a fresh run: another --steps would go unused.
  if (has("epochs") && c.epochs > 0 && has("steps") && c.steps != defaults.steps && !resuming)
    bad("steps", "not with --epochs " + std::to_string(c.epochs) +
                     ", which sets the steps (that many passes over the training file)");
  // The warmup of noam and inverse_sqrt divides: 0 is a learning rate of 0 / 0.
  if (has("schedule") && has("warmup") && (c.schedule == "noam" || c.schedule == "inverse_sqrt") &&
      c.warmup < 1)
    bad("warmup", "must be at least 1 with --schedule " + c.schedule + ", got " +
                      std::to_string(c.warmup) + " (--schedule constant has no warmup)");
  // The cosine schedule decays from the end of warmup to step --steps (with --epochs, the
  // trainer knows the steps only once the data is read).
  if (has("schedule") && c.schedule == "cosine" && has("steps") && c.epochs == 0 && c.steps > 0 &&
      c.steps <= c.warmup) {
    if (given("warmup"))
      bad("warmup", std::to_string(c.warmup) + " must be below --steps " + std::to_string(c.steps) +
                        " with --schedule cosine");
    bad("steps", std::to_string(c.steps) + " must exceed --warmup " + std::to_string(c.warmup) +
                     " with --schedule cosine");
  }
}

namespace {

// Options whose effective value depends on another one. The result is written back into vm too,
// so that --dump-config prints the value the run uses (and --config reads it back unchanged).
void resolve(Config& c, po::variables_map& vm) {
  if (vm.count("no-shuffle") && vm["no-shuffle"].as<bool>()) {
    if (vm.count("shuffle") && !vm["shuffle"].defaulted() && c.shuffle)
      throw UsageError("--no-shuffle: contradicts --shuffle");
    c.shuffle = false;
    vm.at("shuffle") = po::variable_value(boost::any(false), false);
  }
  // TSV lines are longer than synthetic sequences: --max-len has its own default there. It stays
  // marked as a default, so a resumed run does not count it as given.
  if (vm.count("task") && c.task == "tsv" && vm.count("max-len") && vm["max-len"].defaulted()) {
    c.max_len = kTsvMaxLen;
    vm.at("max-len") = po::variable_value(boost::any(c.max_len), true);
  }
  // SentencePiece pieces come from both sides of the corpus: one vocabulary serves both unless
  // --shared-vocab false says otherwise.
  if (vm.count("tokenize") && c.tokenize == "spm" && vm.count("shared-vocab") &&
      vm["shared-vocab"].defaulted()) {
    c.shared_vocab = true;
    vm.at("shared-vocab") = po::variable_value(boost::any(true), true);
  }
  if (vm.count("task") && c.task == "glyphs") {
    if (vm.count("max-len") && vm["max-len"].defaulted()) {
      c.max_len = kGlyphsMaxLen;
      vm.at("max-len") = po::variable_value(boost::any(c.max_len), true);
    }
    if (vm.count("symbols") && vm["symbols"].defaulted()) {
      c.symbols = kGlyphsSymbols;
      vm.at("symbols") = po::variable_value(boost::any(c.symbols), true);
    }
  }
}

// The names of every option of train and of the decoding commands (eval, translate, attention).
const std::set<std::string>& options_of_any_command() {
  static const std::set<std::string> names = [] {
    Config c;
    std::vector<std::string> checkpoints;
    po::options_description d;
    d.add(train_options(c)).add(decoding_options(c, checkpoints, true));
    std::set<std::string> n;
    for (const auto& o : d.options()) n.insert(o->long_name());
    return n;
  }();
  return names;
}

}  // namespace

void store_config_file(const std::string& path, const po::options_description& groups,
                       po::variables_map& vm) {
  std::ifstream in(path);
  // A folder opens as an empty stream on Linux: it would read as an empty configuration.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw RunError("--config: '" + path + "' is a folder, not a file");
  if (!in) throw RunError("--config: cannot read '" + path + "'");
  // Windows editors start a UTF-8 file with a byte-order mark, which would read as part of the
  // first option's name.
  char head[Tokenizer::kUtf8Bom.size()] = {};
  in.read(head, sizeof head);
  if (!Tokenizer::starts_with_bom(std::string_view(head, static_cast<size_t>(in.gcount())))) {
    in.clear();
    in.seekg(0);
  }
  try {
    // One INI file serves a whole experiment: a name that train or the decoding commands take
    // and this command does not is skipped; a name no command takes is an error.
    po::parsed_options parsed = po::parse_config_file(in, groups, true);
    std::vector<po::option> mine;
    for (po::option& o : parsed.options) {
      if (!o.unregistered) {
        mine.push_back(std::move(o));
      } else if (!options_of_any_command().count(o.string_key)) {
        throw UsageError(path + ": unrecognised option '" + o.string_key + "'");
      }
    }
    parsed.options = std::move(mine);
    po::store(parsed, vm);  // the command line already won
  } catch (po::error& e) {
    throw UsageError(path + ": " + message_of(e));
  }
}

bool parse_config(const std::string& command, const std::vector<std::string>& args,
                  const po::options_description& groups, Config& c, po::variables_map& vm,
                  const po::positional_options_description* pos) {
  po::options_description all;
  all.add(groups);
  std::string config_file;
  po::options_description meta("configuration");
  meta.add_options()("config", po::value(&config_file), "read options from an INI file")(
      "dump-config", po::bool_switch(), "print the effective configuration as INI and exit")(
      "help,h", "show this help and exit");
  all.add(meta);
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  try {
    po::command_line_parser parser(args);
    parser.options(all).style(style);
    po::positional_options_description none;
    parser.positional(pos ? *pos : none);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: seqgrad " << command << " [options]\n\n" << help_text(all);
      return false;
    }
    if (vm.count("config")) store_config_file(vm["config"].as<std::string>(), groups, vm);
    po::notify(vm);
  } catch (po::error& e) {
    throw UsageError(message_of(e));
  }
  resolve(c, vm);
  validate(c, vm);
  if (vm["dump-config"].as<bool>()) {
    std::cout << "# seqgrad " << command << ": read back with --config FILE\n"
              << dump_ini(groups, vm);
    return false;
  }
  return true;
}

}  // namespace sg::cli
