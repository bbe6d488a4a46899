#include "train/options.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace sg::cli {

po::options_description data_options(Config& c) {
  po::options_description d("data");
  d.add_options()("task", po::value(&c.task)->default_value(c.task),
                  "copy | reverse | sort | dates | tsv")("train", po::value(&c.train_file),
                                                         "training TSV file (task tsv)")(
      "valid", po::value(&c.valid_file), "held-out TSV file (task tsv)")(
      "data", po::value(&c.data_file), "TSV file to evaluate (eval)")(
      "min-len", po::value(&c.min_len)->default_value(c.min_len), "shortest synthetic sequence")(
      "max-len", po::value(&c.max_len)->default_value(c.max_len),
      "longest synthetic sequence (at most 10000); TSV lines with more tokens are an error")(
      "symbols", po::value(&c.symbols)->default_value(c.symbols), "symbols of a synthetic task")(
      "tokenize", po::value(&c.tokenize)->default_value(c.tokenize), "word | char (TSV)")(
      "min-freq", po::value(&c.min_freq)->default_value(c.min_freq),
      "least count for a token to enter the vocabulary (TSV)")(
      "valid-size", po::value(&c.valid_size)->default_value(c.valid_size),
      "held-out examples of a synthetic task");
  return d;
}

po::options_description model_options(Config& c) {
  po::options_description d("model");
  d.add_options()("d-model", po::value(&c.d_model)->default_value(c.d_model), "model width")(
      "heads", po::value(&c.heads)->default_value(c.heads), "attention heads (divide --d-model)")(
      "enc-layers", po::value(&c.enc_layers)->default_value(c.enc_layers), "encoder layers")(
      "dec-layers", po::value(&c.dec_layers)->default_value(c.dec_layers), "decoder layers")(
      "ff", po::value(&c.ff)->default_value(c.ff), "feed-forward width")(
      "dropout", po::value(&c.dropout)->default_value(c.dropout), "dropout probability")(
      "norm-first", po::bool_switch(&c.norm_first), "pre-LN layers (default post-LN)");
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
      "label smoothing of the loss")("batch", po::value(&c.batch)->default_value(c.batch),
                                     "sequences per batch")(
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
      "most generated tokens (0: twice the source length + 10)")("json", po::bool_switch(&c.json),
                                                                 "print one JSON object per line");
  return d;
}

namespace {

std::string value_string(const boost::any& v) {
  std::ostringstream o;
  if (auto p = boost::any_cast<std::string>(&v)) return *p;
  if (auto p = boost::any_cast<bool>(&v)) return *p ? "true" : "false";
  if (auto p = boost::any_cast<int64_t>(&v))
    o << *p;
  else if (auto p = boost::any_cast<uint64_t>(&v))
    o << *p;
  else if (auto p = boost::any_cast<int>(&v))
    o << *p;
  else if (auto p = boost::any_cast<double>(&v)) {
    o.precision(17);
    o << *p;
  }
  return o.str();
}

}  // namespace

std::string dump_ini(const po::options_description& groups, const po::variables_map& vm) {
  std::ostringstream o;
  for (const auto& opt : groups.options()) {
    const std::string name = opt->long_name();
    if (name == "no-shuffle" || !vm.count(name)) continue;
    o << name << " = " << value_string(vm[name].value()) << '\n';
  }
  return o.str();
}

void validate(const Config& c, const po::variables_map& vm) {
  auto bad = [](const std::string& flag, const std::string& why) {
    throw UsageError("--" + flag + ": " + why);
  };
  auto given = [&](const char* n) { return vm.count(n) > 0; };
  auto positive = [&](const char* n, int64_t v) {
    if (given(n) && v <= 0) bad(n, "must be positive, got " + std::to_string(v));
  };
  auto non_negative = [&](const char* n, double v) {
    if (given(n) && !(v >= 0)) bad(n, "must not be negative");
  };
  if (given("task") && c.task != "copy" && c.task != "reverse" && c.task != "sort" &&
      c.task != "dates" && c.task != "tsv")
    bad("task", "unknown task '" + c.task + "' (copy, reverse, sort, dates, tsv)");
  if (given("tokenize") && c.tokenize != "word" && c.tokenize != "char")
    bad("tokenize", "must be word or char");
  if (given("optim") && c.optim != "adam" && c.optim != "adamw" && c.optim != "sgd")
    bad("optim", "unknown optimizer '" + c.optim + "' (adam, adamw, sgd)");
  if (given("schedule") && c.schedule != "constant" && c.schedule != "noam" &&
      c.schedule != "cosine" && c.schedule != "inverse_sqrt")
    bad("schedule", "unknown schedule '" + c.schedule + "' (constant, noam, cosine, inverse_sqrt)");
  positive("min-len", c.min_len);
  positive("max-len", c.max_len);
  if (given("min-len") && given("max-len") && c.min_len > c.max_len)
    bad("min-len", "is larger than --max-len");
  positive("symbols", c.symbols);
  // Upper bounds on sizes whose cost is paid before training starts (held-out sets, the
  // positional table, vocabularies, beams), so that a typo is an error instead of a stall.
  auto at_most = [&](const char* n, int64_t v, int64_t most) {
    if (given(n) && v > most)
      bad(n, "at most " + std::to_string(most) + ", got " + std::to_string(v));
  };
  at_most("max-len", c.max_len, 10000);
  at_most("symbols", c.symbols, 1000000);
  at_most("beam", c.beam, 1000);
  positive("min-freq", c.min_freq);
  positive("valid-size", c.valid_size);
  positive("d-model", c.d_model);
  positive("heads", c.heads);
  positive("ff", c.ff);
  positive("batch", c.batch);
  positive("beam", c.beam);
  positive("keep", c.keep);
  positive("log-every", c.log_every);
  if (given("enc-layers") && c.enc_layers < 1) bad("enc-layers", "must be at least 1");
  if (given("dec-layers") && c.dec_layers < 1) bad("dec-layers", "must be at least 1");
  if (given("heads") && given("d-model") && c.heads > 0 && c.d_model % c.heads != 0)
    bad("heads",
        std::to_string(c.heads) + " does not divide --d-model " + std::to_string(c.d_model));
  if (given("dropout") && !(c.dropout >= 0 && c.dropout < 1)) bad("dropout", "must be in [0, 1)");
  if (given("label-smoothing") && !(c.label_smoothing >= 0 && c.label_smoothing <= 1))
    bad("label-smoothing", "must be in [0, 1]");
  if (given("lr") && !(c.lr >= 0)) bad("lr", "must not be negative");
  if (given("beta1") && !(c.beta1 >= 0 && c.beta1 < 1)) bad("beta1", "must be in [0, 1)");
  if (given("beta2") && !(c.beta2 >= 0 && c.beta2 < 1)) bad("beta2", "must be in [0, 1)");
  if (given("eps") && !(c.eps >= 0)) bad("eps", "must not be negative");
  non_negative("weight-decay", c.weight_decay);
  non_negative("momentum", c.momentum);
  non_negative("clip-norm", c.clip_norm);
  if (given("warmup") && c.warmup < 0) bad("warmup", "must not be negative");
  if (given("steps") && c.steps < 0) bad("steps", "must not be negative");
  if (given("epochs") && c.epochs < 0) bad("epochs", "must not be negative");
  if (given("threads") && c.threads < 0) bad("threads", "must not be negative");
  if (given("save-every") && c.save_every < 0) bad("save-every", "must not be negative");
  if (given("eval-every") && c.eval_every < 0) bad("eval-every", "must not be negative");
  if (given("patience") && c.patience < 0) bad("patience", "must not be negative");
  if (given("decode-max-len") && c.decode_max_len < 0)
    bad("decode-max-len", "must not be negative");
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
      std::cout << "Usage: seqgrad " << command << " [options]\n\n" << all;
      return false;
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      // A folder opens as an empty stream on Linux: it would read as an empty configuration.
      std::error_code ec;
      if (std::filesystem::is_directory(path, ec))
        throw RunError("--config: '" + path + "' is a folder, not a file");
      if (!in) throw RunError("--config: cannot read '" + path + "'");
      try {
        po::store(po::parse_config_file(in, groups), vm);  // the command line already won
      } catch (po::error& e) {
        throw UsageError(path + ": " + message_of(e));
      }
    }
    po::notify(vm);
  } catch (po::error& e) {
    throw UsageError(message_of(e));
  }
  if (vm.count("no-shuffle") && vm["no-shuffle"].as<bool>()) c.shuffle = false;
  validate(c, vm);
  if (vm["dump-config"].as<bool>()) {
    std::cout << dump_ini(groups, vm);
    return false;
  }
  return true;
}

}  // namespace sg::cli
