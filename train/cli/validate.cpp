// validate(): the checks of option values that Program_options cannot make (ranges, choices,
// relations between options, and options the rest of the configuration would leave unused), each a
// usage error naming the flag. The option descriptions and the parsing are in options.cpp.
#include <cmath>
#include <initializer_list>
#include <string>
#include <utility>

#include "train/cli/options.h"
#include "train/config/model_config.h"

namespace sg::cli {

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
      bad(n, "must be in [" + number_text(lo) + ", " + number_text(hi) + (hi_open ? ")" : "]") +
                 ", got " + number_text(v));
  };
  auto non_negative = [&](const char* n, double v) {
    if (has(n) && !(v >= 0 && std::isfinite(v)))
      bad(n, "must be a finite number >= 0, got " + number_text(v));
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
  // The dates task draws dates, which fix its characters and its shortest source: train --task
  // dates --symbols 20 trained as without it.
  if (has("task") && c.task == "dates") {
    const char* why = "not with --task dates, whose dates decide its characters and lengths";
    unused("symbols", c.symbols != defaults.symbols, why);
    unused("min-len", c.min_len != defaults.min_len, why);
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
    bad("ema", "must be in (0, 1), got " + number_text(c.ema));
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
    bad("top-p", "must be in (0, 1], got " + number_text(c.top_p));
  if (has("temperature") && !(c.temperature > 0 && std::isfinite(c.temperature)))
    bad("temperature", "must be a finite number > 0, got " + number_text(c.temperature));
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

}  // namespace sg::cli
