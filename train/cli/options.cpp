#include "train/cli/options.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string_view>

#include "datasets/tokenizer.h"

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

std::string number_text(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

namespace {

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
    o << number_text(*d);  // 0.9, not 0.90000000000000002
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
