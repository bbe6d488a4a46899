// Program_options descriptions of the options of docs/cli.md, bound to a Config, and the parsing
// every command shares: exact option names only, `--config FILE` (INI, same names without dashes;
// the command line wins), `--dump-config`, validation with usage errors that name the flag.
#pragma once

#include <string>
#include <vector>

#include "train/cli/cli.h"
#include "train/config/config.h"
#include "train/decode/decode.h"

namespace sg::cli {

// --max-len with --task tsv unless given: the most tokens on one side of a TSV line.
constexpr int64_t kTsvMaxLen = 256;
// --symbols and --max-len with --task glyphs unless given: digits and capital letters, strings
// of up to 6 characters.
constexpr int64_t kGlyphsSymbols = 36, kGlyphsMaxLen = 6;

// The help of --decode-max-len (train, eval, translate, attention); decode_limit is the rule.
constexpr const char* kDecodeMaxLenHelp =
    "most generated tokens (0: 1.5 x max(longest training target, largest training "
    "target/source ratio x source length) + 10)";

// The help of --use-ema (eval, translate, attention).
constexpr const char* kUseEmaHelp =
    "use the checkpoint's moving average of the weights (/ema, from train --ema) instead of "
    "/model; for every --checkpoint";

// `defaults`: each option shows its Config value as its default (train). Without, an option is
// in the variables_map only when given (eval, translate and attention: shared_options.h).
po::options_description data_options(Config& c, bool defaults = true);
po::options_description model_options(Config& c, bool defaults = true);
po::options_description optim_options(Config& c);
po::options_description run_options(Config& c);
// eval and translate: --checkpoint (repeatable: an ensemble), --beam, --length-penalty, --sample,
// --top-k, --top-p, --temperature, --seed, --decode-max-len and --threads; with `n_best`, also
// --n-best (translate).
po::options_description decoding_options(Config& c, std::vector<std::string>& checkpoints,
                                         bool n_best);
// The DecodeOptions those options set (lengths: the training lengths of the default limit).
DecodeOptions decoding_of(const Config& c, const LengthStats& lengths);
// The four groups above: every option of `seqgrad train`.
po::options_description train_options(Config& c);

// Parses args into c with the given option groups plus --config and --dump-config. Returns false
// when the command should exit 0 at once (--help or --dump-config printed what was asked).
// `vm` receives what was given (vm.count(name) && !vm[name].defaulted() means set by the user, on
// the command line or in the --config file). Values that depend on others are resolved in both c
// and vm: --no-shuffle sets shuffle false; --task tsv makes --max-len default to kTsvMaxLen;
// --task glyphs makes --symbols and --max-len default to kGlyphsSymbols and kGlyphsMaxLen.
bool parse_config(const std::string& command, const std::vector<std::string>& args,
                  const po::options_description& groups, Config& c, po::variables_map& vm,
                  const po::positional_options_description* pos = nullptr);

// Stores the options of the INI file at `path` that `groups` holds into vm (values already in vm,
// from the command line, win). A name that another command takes is skipped; a name no command
// takes is a UsageError naming the file; an unreadable file or a folder is a RunError.
void store_config_file(const std::string& path, const po::options_description& groups,
                       po::variables_map& vm);

// The values of every option in `groups`, as INI lines `name = value`.
std::string dump_ini(const po::options_description& groups, const po::variables_map& vm);

// Checks values that Program_options cannot (ranges, choices, heads | d_model, options left
// unused); validate.cpp.
void validate(const Config& c, const po::variables_map& vm);

// A double as the shortest text that reads back as the same value (0.9, not 0.90000000000000002).
std::string number_text(double v);

}  // namespace sg::cli
